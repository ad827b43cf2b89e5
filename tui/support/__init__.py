"""Mobile response (R9): the teacher's call for support and the mobile staff's answer."""
