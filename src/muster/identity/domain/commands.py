"""Commands of the identity part."""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterDepartment(Command):
    """Add a department, or update it if the code exists with other details."""

    code: str
    name_zh: str
    name_en: str
    type: str
    parent_code: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterUser(Command):
    """Create a user account in a department with roles and a password."""

    username: str
    display_name: str
    department_code: str
    roles: tuple[str, ...]
    password: str
    language: str = "zh-CN"
    email: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeLanguage(Command):
    """Change the interface language of the acting user."""

    language: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SignIn(Command):
    """Check a username and password and open a session with the given token hash."""

    username: str
    password: str
    session_hash: str
    client: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class SignOut(Command):
    """End the session with the given token hash."""

    session_hash: str


@dataclass(frozen=True, kw_only=True, slots=True)
class IssueApiKey(Command):
    """Issue a machine connector key scoped to one department."""

    key_id: str
    secret_hash: str
    department_code: str
    label: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RevokeApiKey(Command):
    """Revoke a connector key."""

    key_id: str
    reason: str = ""
