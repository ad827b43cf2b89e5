"""Administrators' summaries (DESIGN section 6b): one code path behind the HTTP API, the CLI,
the dashboard and the HTML report."""
