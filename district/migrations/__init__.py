"""Alembic migrations for the district server's database (run by ``district.db.migrate``)."""
