"""Take a Break: start, stop and pick dialogs (R3: a support, never discipline)."""
