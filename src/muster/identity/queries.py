"""Read functions of the identity part, used by web, CLI and other parts."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from muster.core.errors import NotFound
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity.domain.model import CONNECTOR_ROLE
from muster.identity.read_models import (
    api_keys,
    credentials,
    departments,
    sessions,
    sign_in_failures,
    users,
)


@dataclass(frozen=True, slots=True)
class DepartmentView:
    """A department as shown to people."""

    code: str
    name_zh: str
    name_en: str
    type: str
    parent_code: str | None

    def name(self, language: str) -> str:
        """Return the name in the given language."""
        return self.name_zh if language == "zh-CN" else self.name_en


@dataclass(frozen=True, slots=True)
class UserView:
    """A user account as shown to people (never the password)."""

    id: str
    username: str
    display_name: str
    department_code: str
    roles: tuple[str, ...]
    language: str
    email: str | None
    is_active: bool

    def as_actor(self) -> Actor:
        """Return the actor this user acts as."""
        return Actor(
            kind="user",
            id=self.id,
            department=self.department_code,
            roles=frozenset(self.roles),
            name=self.username,
        )


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    """An API key's public facts."""

    id: str
    department_code: str
    label: str
    created_at: str
    revoked_at: str | None


def list_departments(conn: Connection) -> list[DepartmentView]:
    """Return every department ordered by code."""
    rows = conn.execute(select(departments).order_by(departments.c.code))
    return [_department(row) for row in rows]


def get_department(conn: Connection, code: str) -> DepartmentView | None:
    """Return one department, or None."""
    row = conn.execute(select(departments).where(departments.c.code == code)).first()
    return _department(row) if row is not None else None


def list_users(conn: Connection) -> list[UserView]:
    """Return every user ordered by username."""
    return [
        _user(row) for row in conn.execute(select(users).order_by(users.c.username))
    ]


def role_holders(conn: Connection, department: str, role: str) -> list[str]:
    """Return the ids of active users of a department who hold a role, sorted."""
    rows = conn.execute(
        select(users.c.id, users.c.roles).where(
            users.c.department_code == department, users.c.is_active.is_(True)
        )
    )
    return sorted(user_id for user_id, roles in rows if role in roles.split())


def get_user_by_username(conn: Connection, username: str) -> UserView | None:
    """Return one user by username, or None."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return _user(row) if row is not None else None


def acting_actor(conn: Connection, username: str | None) -> Actor:
    """Return the named user as an actor, or Muster itself when none is named (the
    operator at the server's shell: CLIs' ``--user``); NotFound for an unknown name."""
    if username is None:
        return SYSTEM_ACTOR
    view = get_user_by_username(conn, username)
    if view is None:
        raise NotFound(f"no user {username}", username=username)
    return view.as_actor()


def get_user(conn: Connection, user_id: str) -> UserView | None:
    """Return one user by id, or None."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row is not None else None


def session_user(conn: Connection, session_hash: str, *, now: str) -> UserView | None:
    """Return the user of a live session (not ended, not expired), or None."""
    row = conn.execute(
        select(users)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(
            and_(
                sessions.c.session_hash == session_hash,
                sessions.c.ended_at.is_(None),
                sessions.c.expires_at > now,
                users.c.is_active.is_(True),
            )
        )
    ).first()
    return _user(row) if row is not None else None


def recent_sign_in_failures(conn: Connection, username: str, *, since: str) -> int:
    """Count failed sign-ins of a username since a moment (refusals excluded)."""
    query = select(func.count()).where(
        sign_in_failures.c.username == username,
        sign_in_failures.c.at >= since,
        sign_in_failures.c.reason != "rate_limited",
    )
    return int(conn.execute(query).scalar_one())


def credential_hash(conn: Connection, subject: str) -> str | None:
    """Return the stored secret hash of a user or key, or None."""
    row = conn.execute(
        select(credentials.c.secret_hash).where(credentials.c.subject == subject)
    ).first()
    return str(row[0]) if row is not None else None


def list_api_keys(conn: Connection) -> list[ApiKeyView]:
    """Return every API key (without secrets), newest first."""
    rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at.desc()))
    return [
        ApiKeyView(
            id=row.id,
            department_code=row.department_code,
            label=row.label,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]


def api_key_digest(secret: str) -> str:
    """Return the stored digest of an API key secret (keys are 256-bit random)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_key_actor(conn: Connection, key_id: str, secret: str) -> Actor | None:
    """Return the connector actor of a valid, unrevoked key, or None."""
    row = conn.execute(
        select(api_keys.c.department_code, credentials.c.secret_hash)
        .join(credentials, credentials.c.subject == "apikey:" + api_keys.c.id)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(row[1], api_key_digest(secret)):
        return None
    return Actor(
        kind="api_key",
        id=key_id,
        department=row[0],
        roles=frozenset({CONNECTOR_ROLE}),
        name=f"api-key {key_id}",
    )


def _department(row: object) -> DepartmentView:
    return DepartmentView(
        code=row.code,  # type: ignore[attr-defined]
        name_zh=row.name_zh,  # type: ignore[attr-defined]
        name_en=row.name_en,  # type: ignore[attr-defined]
        type=row.type,  # type: ignore[attr-defined]
        parent_code=row.parent_code,  # type: ignore[attr-defined]
    )


def _user(row: object) -> UserView:
    mapping = row._mapping  # type: ignore[attr-defined]
    return UserView(
        id=mapping["id"],
        username=mapping["username"],
        display_name=mapping["display_name"],
        department_code=mapping["department_code"],
        roles=tuple(mapping["roles"].split()),
        language=mapping["language"],
        email=mapping["email"],
        is_active=bool(mapping["is_active"]),
    )


__all__ = [
    "ApiKeyView",
    "DepartmentView",
    "UserView",
    "acting_actor",
    "api_key_actor",
    "api_key_digest",
    "credential_hash",
    "get_department",
    "get_user",
    "get_user_by_username",
    "list_api_keys",
    "list_departments",
    "list_users",
    "recent_sign_in_failures",
    "role_holders",
    "session_user",
]
