"""`classlog district report`: one self-contained HTML file for the monthly data review, with the
same numbers as the API and the dashboard (it calls the same ``district.summaries.run_report``)."""

from district.report.html import render_report

__all__ = ["render_report"]
