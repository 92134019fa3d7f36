"""ingest batch store, quarantine, quality

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:16:59.692732
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("dataset_code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("encoding", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ingest_batches")),
        sa.UniqueConstraint(
            "dataset_code", "digest", name=op.f("uq_ingest_batches_dataset_code_digest")
        ),
    )
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_batches_dataset_code"), ["dataset_code"], unique=False
        )

    op.create_table(
        "ingest_cap_alerts",
        sa.Column("alert_key", sa.Text(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("sent", sa.Text(), nullable=False),
        sa.Column("msg_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signature_detail", sa.Text(), nullable=False),
        sa.Column("infos", sa.Integer(), nullable=False),
        sa.Column("areas", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("dataset_code", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("alert_key", name=op.f("pk_ingest_cap_alerts")),
        sa.UniqueConstraint("digest", name=op.f("uq_ingest_cap_alerts_digest")),
    )
    op.create_table(
        "ingest_cap_references",
        sa.Column("alert_key", sa.Text(), nullable=False),
        sa.Column("referenced_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "alert_key", "referenced_key", name=op.f("pk_ingest_cap_references")
        ),
    )
    op.create_table(
        "ingest_observations",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("dataset_code", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("observed_at", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(
            "batch_id", "ordinal", name=op.f("pk_ingest_observations")
        ),
    )
    with op.batch_alter_table("ingest_observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ingest_observations_dataset_time",
            ["dataset_code", "observed_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ingest_observations_station_time",
            ["station", "observed_at"],
            unique=False,
        )

    op.create_table(
        "ingest_quality",
        sa.Column("dataset_code", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dataset_code", "measure", name=op.f("pk_ingest_quality")
        ),
    )
    op.create_table(
        "ingest_quarantine",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("dataset_code", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("locator", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_quarantine")),
    )
    with op.batch_alter_table("ingest_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ingest_quarantine_dataset_status",
            ["dataset_code", "status"],
            unique=False,
        )

    op.create_table(
        "ingest_records",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("dataset_code", sa.Text(), nullable=False),
        sa.Column("locator", sa.Text(), nullable=False),
        sa.Column("record_values", sa.Text(), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=True),
        sa.Column("received_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "ordinal", name=op.f("pk_ingest_records")),
    )
    with op.batch_alter_table("ingest_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_records_dataset_code"), ["dataset_code"], unique=False
        )

    op.create_table(
        "ingest_resource_messages",
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("message_type", sa.Text(), nullable=False),
        sa.Column("sent", sa.Text(), nullable=True),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_ingest_resource_messages")),
        sa.UniqueConstraint("digest", name=op.f("uq_ingest_resource_messages_digest")),
    )


def downgrade() -> None:

    op.drop_table("ingest_resource_messages")
    with op.batch_alter_table("ingest_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_records_dataset_code"))

    op.drop_table("ingest_records")
    with op.batch_alter_table("ingest_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_quarantine_dataset_status")

    op.drop_table("ingest_quarantine")
    op.drop_table("ingest_quality")
    with op.batch_alter_table("ingest_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_observations_station_time")
        batch_op.drop_index("ix_ingest_observations_dataset_time")

    op.drop_table("ingest_observations")
    op.drop_table("ingest_cap_references")
    op.drop_table("ingest_cap_alerts")
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batches_dataset_code"))

    op.drop_table("ingest_batches")
