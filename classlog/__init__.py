"""classlog's single command-line entry point; it routes to the TUI, the daemon and the server."""
