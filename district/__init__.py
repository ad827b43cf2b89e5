"""The district server: roster, devices, sync API and exports (DESIGN section 6).

Everything heavy (FastAPI, SQLAlchemy) is imported by the modules that need it, never here, so
that `classlog` start-up can import ``district.commands`` without loading the server's stack.
"""
