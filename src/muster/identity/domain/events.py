"""Events of the identity part. Subscribed to by the web feed and review."""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, event_type


@event_type("identity.DepartmentRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DepartmentRegistered(Event):
    """A department joined the deployment."""

    code: str
    name_zh: str
    name_en: str
    type: str
    parent_code: str | None = None


@event_type("identity.DepartmentUpdated", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class DepartmentUpdated(Event):
    """A department's names, type or parent changed."""

    code: str
    name_zh: str
    name_en: str
    type: str
    parent_code: str | None = None


@event_type("identity.UserRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class UserRegistered(Event):
    """A person got an account in a department with roles."""

    user_id: str
    username: str
    display_name: str
    department_code: str
    roles: tuple[str, ...]
    language: str
    email: str | None = None


@event_type("identity.PasswordSet", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordSet(Event):
    """A user's password was set; the hash itself stays out of the log."""

    user_id: str


@event_type("identity.UserLanguageChanged", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class UserLanguageChanged(Event):
    """A user chose the language of the interface."""

    user_id: str
    language: str


@event_type("identity.UserSignedIn", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class UserSignedIn(Event):
    """A person signed in; a session began (identified by its token's hash)."""

    user_id: str
    session_hash: str
    expires_at: str
    client: str = ""


@event_type("identity.UserSignedOut", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class UserSignedOut(Event):
    """A session ended by the user's choice."""

    user_id: str
    session_hash: str


@event_type("identity.SignInFailed", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class SignInFailed(Event):
    """A sign-in attempt failed (unknown user, wrong password, or rate limited)."""

    username: str
    reason: str
    client: str = ""


@event_type("identity.ApiKeyIssued", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKeyIssued(Event):
    """A machine connector key was issued for one department."""

    key_id: str
    department_code: str
    label: str


@event_type("identity.ApiKeyRevoked", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKeyRevoked(Event):
    """A connector key was revoked and no longer authenticates."""

    key_id: str
    reason: str = ""


@event_type("identity.AccessRefused", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AccessRefused(Event):
    """An authenticated actor asked for something it may not do."""

    action: str
    reason: str
