"""The incidents' counts hold a whole location: ``rollup_incidents.key`` takes as many
characters as the contract allows a location (500), where it took 255. On PostgreSQL a Level 2
incident with a longer location failed its whole push (the value did not fit the key), so the
device sent it again and again and its later records never reached the server either. SQLite
never enforced the length; its table is made again with the declared type.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHOLE = 500
BEFORE = 255


def _key_length(length: int) -> None:
    with op.batch_alter_table("rollup_incidents") as batch:
        batch.alter_column(
            "key",
            existing_type=sa.String(BEFORE if length == WHOLE else WHOLE),
            type_=sa.String(length),
            existing_nullable=False,
        )


def upgrade() -> None:
    _key_length(WHOLE)


def downgrade() -> None:
    """Back to 255 characters, refused while a count is kept under a longer location (0009
    could not hold it)."""
    longest = op.get_bind().execute(sa.text("SELECT max(length(key)) FROM rollup_incidents"))
    if (longest.scalar() or 0) > BEFORE:
        raise RuntimeError(
            f"rollup_incidents counts a location longer than {BEFORE} characters, which 0009"
            " cannot hold: correct those incidents' locations before going back"
        )
    _key_length(BEFORE)
