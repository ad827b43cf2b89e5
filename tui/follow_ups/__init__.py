"""Follow-ups (R6): open items until done."""
