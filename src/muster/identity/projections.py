"""Projections of the identity part: events -> its tables. Imported by bootstrap."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.identity.domain.events import (
    ApiKeyIssued,
    ApiKeyRevoked,
    DepartmentRegistered,
    DepartmentUpdated,
    SignInFailed,
    UserLanguageChanged,
    UserRegistered,
    UserSignedIn,
    UserSignedOut,
)
from muster.identity.read_models import (
    PROJECTED_TABLES,
    api_keys,
    departments,
    sessions,
    sign_in_failures,
    users,
)


def on_department_registered(
    event: DepartmentRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Insert the new department."""
    conn.execute(
        insert(departments).values(
            code=event.code,
            name_zh=event.name_zh,
            name_en=event.name_en,
            type=event.type,
            parent_code=event.parent_code,
            registered_at=envelope.recorded_at,
        )
    )


def on_department_updated(
    event: DepartmentUpdated, _envelope: Envelope, conn: Connection
) -> None:
    """Update the department's details."""
    conn.execute(
        update(departments)
        .where(departments.c.code == event.code)
        .values(
            name_zh=event.name_zh,
            name_en=event.name_en,
            type=event.type,
            parent_code=event.parent_code,
        )
    )


def on_user_registered(
    event: UserRegistered, envelope: Envelope, conn: Connection
) -> None:
    """Insert the new user."""
    conn.execute(
        insert(users).values(
            id=event.user_id,
            username=event.username,
            display_name=event.display_name,
            department_code=event.department_code,
            roles=" ".join(event.roles),
            language=event.language,
            email=event.email,
            is_active=True,
            registered_at=envelope.recorded_at,
        )
    )


def on_user_language_changed(
    event: UserLanguageChanged, _envelope: Envelope, conn: Connection
) -> None:
    """Store the user's language."""
    conn.execute(
        update(users).where(users.c.id == event.user_id).values(language=event.language)
    )


def on_user_signed_in(
    event: UserSignedIn, envelope: Envelope, conn: Connection
) -> None:
    """Open the session."""
    conn.execute(
        insert(sessions).values(
            session_hash=event.session_hash,
            user_id=event.user_id,
            created_at=envelope.recorded_at,
            expires_at=event.expires_at,
        )
    )


def on_user_signed_out(
    event: UserSignedOut, envelope: Envelope, conn: Connection
) -> None:
    """Close the session."""
    conn.execute(
        update(sessions)
        .where(sessions.c.session_hash == event.session_hash)
        .values(ended_at=envelope.recorded_at)
    )


def on_sign_in_failed(
    event: SignInFailed, envelope: Envelope, conn: Connection
) -> None:
    """Count the failure for rate limiting."""
    conn.execute(
        insert(sign_in_failures).values(
            seq=envelope.seq,
            username=event.username,
            reason=event.reason,
            at=envelope.recorded_at,
        )
    )


def on_api_key_issued(
    event: ApiKeyIssued, envelope: Envelope, conn: Connection
) -> None:
    """Insert the key (without its secret)."""
    conn.execute(
        insert(api_keys).values(
            id=event.key_id,
            department_code=event.department_code,
            label=event.label,
            created_at=envelope.recorded_at,
            created_by=envelope.actor_id,
        )
    )


def on_api_key_revoked(
    event: ApiKeyRevoked, envelope: Envelope, conn: Connection
) -> None:
    """Mark the key revoked."""
    conn.execute(
        update(api_keys)
        .where(api_keys.c.id == event.key_id)
        .values(revoked_at=envelope.recorded_at)
    )


_HANDLERS: dict[type[Event], list[Projector]] = {
    DepartmentRegistered: [on_department_registered],
    DepartmentUpdated: [on_department_updated],
    UserRegistered: [on_user_registered],
    UserLanguageChanged: [on_user_language_changed],
    UserSignedIn: [on_user_signed_in],
    UserSignedOut: [on_user_signed_out],
    SignInFailed: [on_sign_in_failed],
    ApiKeyIssued: [on_api_key_issued],
    ApiKeyRevoked: [on_api_key_revoked],
}

PROJECTIONS = ProjectionSet(
    name="identity", handlers=_HANDLERS, tables=PROJECTED_TABLES
)

__all__ = ["PROJECTIONS"]
