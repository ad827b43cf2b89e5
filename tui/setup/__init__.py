"""First run: which staff member uses this device, or how to import a roster."""
