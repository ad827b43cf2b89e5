"""The home screen: the section's students, running Take a Breaks, follow-ups and sync state."""
