"""The sync daemon: pushes this device's Level 2 records, Take a Break events and follow-ups to
the district server and pulls changes back (DESIGN section 5).

Level 1 records never leave the device: the store keeps them out of the outbox, and the daemon
refuses to send any op whose ``PushOp.refusal()`` is set. All local writes go through
``schema.sync_store``; this package holds the network side, the scheduling and the command line.
"""
