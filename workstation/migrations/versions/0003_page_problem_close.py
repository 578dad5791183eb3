"""page problems: a supervisor closes a report with a note

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 09:00:00.000000

Three nullable columns on page_problems (when, who, the note), set together or not at all, so
the reports already there stay open and a central database at 0002 takes them with
`workstation central upgrade`. On SQLite the batch copies the table (constraints cannot be
added in place); the reports keep their rows and index.
"""
from alembic import op
import sqlalchemy as sa
import workstation.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CLOSED_TOGETHER = ("(closed_at IS NULL AND closed_by IS NULL AND close_note IS NULL)"
                   " OR (closed_at IS NOT NULL AND closed_by IS NOT NULL AND close_note IS NOT NULL)")


def upgrade() -> None:
    with op.batch_alter_table('page_problems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', workstation.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('close_note', sa.String(length=200), nullable=True))
        batch_op.create_foreign_key('fk_page_problems_closed_by', 'users', ['closed_by'], ['id'])
        batch_op.create_check_constraint('ck_page_problems_closed', CLOSED_TOGETHER)


def downgrade() -> None:
    with op.batch_alter_table('page_problems', schema=None) as batch_op:
        batch_op.drop_constraint('ck_page_problems_closed', type_='check')
        batch_op.drop_constraint('fk_page_problems_closed_by', type_='foreignkey')
        batch_op.drop_column('close_note')
        batch_op.drop_column('closed_by')
        batch_op.drop_column('closed_at')
