"""Records: today's log, a student's history, one record with edit, level change and void."""
