"""page problems: keyers' reports of missing or unreadable pages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000

A new table only, so a central database made by 0001 (a demo workspace, an office already
trying the app) takes it with `workstation central upgrade` instead of being made again.
"""
from alembic import op
import sqlalchemy as sa
import workstation.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('page_problems',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('page_no', sa.Integer(), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('keyer_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('reported_at', workstation.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('page_no >= 1', name='ck_page_problems_page'),
    sa.CheckConstraint("reason IN ('unreadable','missing','wrong_document')", name='ck_page_problems_reason'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.ForeignKeyConstraint(['keyer_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['work_units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('page_problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_problems_document_id'), ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('page_problems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_problems_document_id'))

    op.drop_table('page_problems')
