"""Widgets used by more than one feature."""
