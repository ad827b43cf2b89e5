"""The administrator's dashboard (`classlog admin`): the server's summaries, as charts and
tables."""
