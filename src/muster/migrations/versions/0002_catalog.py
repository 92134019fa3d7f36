"""catalog: datasets, their current fields and every schema version

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:06:46.973804
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_datasets",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_department", sa.Text(), nullable=False),
        sa.Column("sharing_class", sa.Text(), nullable=False),
        sa.Column("sharing_conditions", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("data_grade", sa.Text(), nullable=False),
        sa.Column("update_interval_minutes", sa.Integer(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("connector", sa.Text(), nullable=False),
        sa.Column("feed_url", sa.Text(), nullable=True),
        sa.Column("csv_mapping", sa.Text(), nullable=False),
        sa.Column("csv_encoding", sa.Text(), nullable=True),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_datasets")),
    )
    op.create_table(
        "catalog_dataset_fields",
        sa.Column("dataset_code", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("sensitivity", sa.Text(), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=True),
        sa.Column("maximum", sa.Float(), nullable=True),
        sa.Column("max_length", sa.Integer(), nullable=True),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dataset_code", "position", name=op.f("pk_catalog_dataset_fields")
        ),
    )
    op.create_table(
        "catalog_dataset_schema_versions",
        sa.Column("dataset_code", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dataset_code", "version", name=op.f("pk_catalog_dataset_schema_versions")
        ),
    )
    with op.batch_alter_table("catalog_datasets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_datasets_owner_department"),
            ["owner_department"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("catalog_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_datasets_owner_department"))

    op.drop_table("catalog_dataset_schema_versions")
    op.drop_table("catalog_dataset_fields")
    op.drop_table("catalog_datasets")
