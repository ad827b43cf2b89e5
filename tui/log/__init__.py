"""The log flow: students -> behavior -> level and actions -> optional details -> save."""
