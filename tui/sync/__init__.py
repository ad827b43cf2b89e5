"""Sync screens opened from home (dead letters)."""
