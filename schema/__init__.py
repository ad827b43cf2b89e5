"""The single source of truth for classlog's data.

Models, grid, wire protocol, device store and clock; imports nothing else of ours.
"""
