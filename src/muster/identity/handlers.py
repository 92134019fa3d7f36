"""Command handlers of the identity part: load -> decide -> append -> commit (R6).

Wired in bootstrap with their ports (password hasher, sign-in policy).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, update

from muster.core.bus import Handler
from muster.core.clock import isoformat_utc
from muster.core.errors import (
    AuthenticationFailed,
    PermissionDenied,
    SignInRateLimited,
    ValidationFailed,
)
from muster.core.messages import Actor, Command
from muster.core.uow import UnitOfWork
from muster.identity import queries
from muster.identity.domain.commands import (
    ChangeLanguage,
    IssueApiKey,
    RegisterDepartment,
    RegisterUser,
    RevokeApiKey,
    SignIn,
    SignOut,
)
from muster.identity.domain.errors import (
    UnknownApiKey,
    UnknownDepartment,
    UsernameTaken,
)
from muster.identity.domain.events import (
    AccessRefused,
    ApiKeyIssued,
    ApiKeyRevoked,
    DepartmentRegistered,
    DepartmentUpdated,
    PasswordSet,
    SignInFailed,
    UserLanguageChanged,
    UserRegistered,
    UserSignedIn,
    UserSignedOut,
)
from muster.identity.domain.model import (
    LANGUAGES,
    check_new_user,
    is_rate_limited,
    require_admin,
)
from muster.identity.passwords import PasswordHasher
from muster.identity.read_models import credentials


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """How long sessions last and how many failures lock an account for a while."""

    max_failures: int
    failure_window: timedelta
    session_lifetime: timedelta


@dataclass(frozen=True, slots=True)
class SignedIn:
    """What a successful sign-in returns to the edge."""

    user: queries.UserView
    expires_at: str


def register_department(command: RegisterDepartment, uow: UnitOfWork) -> str:
    """Register a department or update it; return created, updated or unchanged."""
    with uow:
        require_admin(uow.actor, "register a department")
        parent = command.parent_code
        if parent not in (None, command.code) and (
            queries.get_department(uow.conn, parent) is None
        ):
            raise UnknownDepartment(
                f"parent department {parent} does not exist", department=parent
            )
        existing = queries.get_department(uow.conn, command.code)
        stream = f"department-{command.code}"
        if existing is None:
            registered = DepartmentRegistered(
                code=command.code,
                name_zh=command.name_zh,
                name_en=command.name_en,
                type=command.type,
                parent_code=parent,
            )
            uow.append(stream, [registered], expected_version=0)
            outcome = "created"
        elif (
            existing.name_zh,
            existing.name_en,
            existing.type,
            existing.parent_code,
        ) == (command.name_zh, command.name_en, command.type, command.parent_code):
            return "unchanged"
        else:
            updated = DepartmentUpdated(
                code=command.code,
                name_zh=command.name_zh,
                name_en=command.name_en,
                type=command.type,
                parent_code=parent,
            )
            version = uow.stream_version(stream)
            uow.append(stream, [updated], expected_version=version)
            outcome = "updated"
        uow.commit()
        return outcome


def register_user(
    command: RegisterUser, uow: UnitOfWork, *, hasher: PasswordHasher
) -> str:
    """Create an account; return the new user's id."""
    check_new_user(
        username=command.username,
        roles=command.roles,
        language=command.language,
        password=command.password,
    )
    password_hash = hasher.hash(command.password)  # slow on purpose; outside the lock
    with uow:
        require_admin(uow.actor, "register a user")
        if queries.get_department(uow.conn, command.department_code) is None:
            raise UnknownDepartment(
                f"department {command.department_code} does not exist",
                department=command.department_code,
            )
        if queries.get_user_by_username(uow.conn, command.username) is not None:
            raise UsernameTaken(
                f"username {command.username} is taken", username=command.username
            )
        user_id = str(uuid.uuid4())
        registered = UserRegistered(
            user_id=user_id,
            username=command.username,
            display_name=command.display_name,
            department_code=command.department_code,
            roles=command.roles,
            language=command.language,
            email=command.email,
        )
        uow.append(
            f"user-{user_id}",
            [registered, PasswordSet(user_id=user_id)],
            expected_version=0,
        )
        _store_secret(uow, f"user:{user_id}", password_hash)
        uow.commit()
        return user_id


def change_language(command: ChangeLanguage, uow: UnitOfWork) -> None:
    """Record the acting user's language choice."""
    if command.language not in LANGUAGES:
        raise ValidationFailed(f"language must be one of {LANGUAGES}", field="language")
    with uow:
        if uow.actor.kind != "user":
            raise PermissionDenied("only people choose a language", action="language")
        stream = f"user-{uow.actor.id}"
        version = uow.stream_version(stream)
        uow.append(
            stream,
            [UserLanguageChanged(user_id=uow.actor.id, language=command.language)],
            expected_version=version,
        )
        uow.commit()


def sign_in(
    command: SignIn,
    uow: UnitOfWork,
    *,
    hasher: PasswordHasher,
    policy: SignInPolicy,
) -> SignedIn:
    """Check credentials; open a session, or log the failure and refuse."""
    with uow:
        now = uow.clock.now()
        since = isoformat_utc(now - policy.failure_window)
        failures = queries.recent_sign_in_failures(
            uow.conn, command.username, since=since
        )
        user = queries.get_user_by_username(uow.conn, command.username)
        stored = queries.credential_hash(uow.conn, f"user:{user.id}") if user else None
        if is_rate_limited(failures, max_failures=policy.max_failures):
            reason = "rate_limited"
        elif user is None or not user.is_active:
            hasher.verify(None, command.password)  # same cost as a real check
            reason = "unknown_user"
        elif not hasher.verify(stored, command.password):
            reason = "wrong_password"
        else:
            expires_at = isoformat_utc(now + policy.session_lifetime)
            uow.append(
                f"session-{command.session_hash[:16]}",
                [
                    UserSignedIn(
                        user_id=user.id,
                        session_hash=command.session_hash,
                        expires_at=expires_at,
                        client=command.client,
                    )
                ],
                expected_version=0,
            )
            uow.commit()
            return SignedIn(user=user, expires_at=expires_at)
        stream = f"sign-in-{command.username[:64]}"
        uow.append(
            stream,
            [
                SignInFailed(
                    username=command.username[:64], reason=reason, client=command.client
                )
            ],
            expected_version=uow.stream_version(stream),
        )
        uow.commit()
    if reason == "rate_limited":
        raise SignInRateLimited(
            "too many failed sign-ins; wait a few minutes", username=command.username
        )
    raise AuthenticationFailed("wrong username or password")


def sign_out(command: SignOut, uow: UnitOfWork) -> None:
    """End a session."""
    with uow:
        stream = f"session-{command.session_hash[:16]}"
        uow.append(
            stream,
            [UserSignedOut(user_id=uow.actor.id, session_hash=command.session_hash)],
            expected_version=uow.stream_version(stream),
        )
        uow.commit()


def issue_api_key(command: IssueApiKey, uow: UnitOfWork) -> str:
    """Record a new connector key for a department; return its id."""
    with uow:
        require_admin(uow.actor, "issue an API key")
        if queries.get_department(uow.conn, command.department_code) is None:
            raise UnknownDepartment(
                f"department {command.department_code} does not exist",
                department=command.department_code,
            )
        uow.append(
            f"apikey-{command.key_id}",
            [
                ApiKeyIssued(
                    key_id=command.key_id,
                    department_code=command.department_code,
                    label=command.label,
                )
            ],
            expected_version=0,
        )
        _store_secret(uow, f"apikey:{command.key_id}", command.secret_hash)
        uow.commit()
        return command.key_id


def revoke_api_key(command: RevokeApiKey, uow: UnitOfWork) -> None:
    """Revoke a connector key."""
    with uow:
        require_admin(uow.actor, "revoke an API key")
        stream = f"apikey-{command.key_id}"
        version = uow.stream_version(stream)
        if version == 0:
            raise UnknownApiKey(f"no API key {command.key_id}", key_id=command.key_id)
        uow.append(
            stream,
            [ApiKeyRevoked(key_id=command.key_id, reason=command.reason)],
            expected_version=version,
        )
        uow.commit()


def record_refusal(
    action: str, actor: Actor, refusal: Exception, *, uow: UnitOfWork
) -> None:
    """Log that an actor was refused an action (its own transaction)."""
    with uow:
        stream = f"refusals-{actor.kind}-{actor.id}"
        uow.append(
            stream,
            [AccessRefused(action=action, reason=str(refusal))],
            expected_version=uow.stream_version(stream),
        )
        uow.commit()


def _store_secret(uow: UnitOfWork, subject: str, secret_hash: str) -> None:
    now = isoformat_utc(uow.clock.now())
    result = uow.conn.execute(
        update(credentials)
        .where(credentials.c.subject == subject)
        .values(secret_hash=secret_hash, updated_at=now)
    )
    if result.rowcount == 0:
        uow.conn.execute(
            insert(credentials).values(
                subject=subject, secret_hash=secret_hash, updated_at=now
            )
        )


def command_handlers(
    *, hasher: PasswordHasher, policy: SignInPolicy
) -> dict[type[Command], Handler]:
    """Return this part's command table with its ports bound."""

    def _register_user(command: RegisterUser, uow: UnitOfWork) -> str:
        return register_user(command, uow, hasher=hasher)

    def _sign_in(command: SignIn, uow: UnitOfWork) -> SignedIn:
        return sign_in(command, uow, hasher=hasher, policy=policy)

    return {
        RegisterDepartment: register_department,
        RegisterUser: _register_user,
        ChangeLanguage: change_language,
        SignIn: _sign_in,
        SignOut: sign_out,
        IssueApiKey: issue_api_key,
        RevokeApiKey: revoke_api_key,
    }


__all__ = ["SignInPolicy", "SignedIn", "command_handlers", "record_refusal"]
