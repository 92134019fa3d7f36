"""Tables owned by the identity part. Written by projections.py (and credentials by
handlers.py only); read through queries.py.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Table, Text

from muster.core.db import metadata

departments = Table(
    "identity_departments",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("parent_code", Text, nullable=True),
    Column("registered_at", Text, nullable=False),
)

users = Table(
    "identity_users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column(
        "department_code",
        Text,
        ForeignKey("identity_departments.code"),
        nullable=False,
    ),
    Column("roles", Text, nullable=False),  # space-separated role names
    Column("language", Text, nullable=False),
    Column("email", Text, nullable=True),
    Column("is_active", Boolean, nullable=False),
    Column("registered_at", Text, nullable=False),
)

sessions = Table(
    "identity_sessions",
    metadata,
    Column("session_hash", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("identity_users.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("ended_at", Text, nullable=True),
)

sign_in_failures = Table(
    "identity_sign_in_failures",
    metadata,
    # The failure's event seq: deterministic, so a replay rebuilds identical rows.
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("username", Text, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("at", Text, nullable=False),
)

api_keys = Table(
    "identity_api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column(
        "department_code",
        Text,
        ForeignKey("identity_departments.code"),
        nullable=False,
    ),
    Column("label", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("revoked_at", Text, nullable=True),
)

# Secret material (argon2 password hashes, API-key digests) stays out of the log, which
# departments copy and export (ADR 0003). Written by handlers in the same transaction
# as the event that records the fact; never truncated by a projection rebuild.
credentials = Table(
    "identity_credentials",
    metadata,
    Column("subject", Text, primary_key=True),  # "user:<id>" or "apikey:<id>"
    Column("secret_hash", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

PROJECTED_TABLES = [departments, users, sessions, sign_in_failures, api_keys]

__all__ = [
    "PROJECTED_TABLES",
    "api_keys",
    "credentials",
    "departments",
    "sessions",
    "sign_in_failures",
    "users",
]
