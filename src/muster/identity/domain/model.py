"""Identity rules: roles, permissions and checks on new accounts (stdlib only)."""

from __future__ import annotations

import re
from enum import StrEnum

from muster.core.errors import PermissionDenied
from muster.core.messages import Actor
from muster.identity.domain.errors import InvalidUserData


class Role(StrEnum):
    """What a person does in Muster."""

    ADMIN = "admin"
    COMMANDER = "commander"
    DUTY_OFFICER = "duty_officer"
    HEAD = "head"  # 部门负责人: the department head, notified by escalation chains
    ANALYST = "analyst"
    OBSERVER = "observer"


CONNECTOR_ROLE = "connector"  # the role of an API key acting for its department
LANGUAGES = ("zh-CN", "en")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 8


def require_admin(actor: Actor, action: str) -> None:
    """Refuse unless the actor is an administrator (or Muster itself)."""
    if not actor.has_role(Role.ADMIN, "system"):
        raise PermissionDenied(f"{action} needs the admin role", action=action)


def check_new_user(
    *, username: str, roles: tuple[str, ...], language: str, password: str
) -> None:
    """Refuse a malformed account before anything is written."""
    if not USERNAME.match(username):
        raise InvalidUserData(
            "username must be 3-64 lowercase letters, digits, '.', '_' or '-'",
            field="username",
        )
    known = {role.value for role in Role}
    unknown = [role for role in roles if role not in known]
    if not roles or unknown:
        raise InvalidUserData(
            f"roles must be among {sorted(known)}; got {list(roles)}", field="roles"
        )
    if language not in LANGUAGES:
        raise InvalidUserData(f"language must be one of {LANGUAGES}", field="language")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUserData(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
        )


def is_rate_limited(recent_failures: int, *, max_failures: int) -> bool:
    """Tell whether an account has failed to sign in too often recently."""
    return recent_failures >= max_failures


__all__ = [
    "CONNECTOR_ROLE",
    "LANGUAGES",
    "Role",
    "check_new_user",
    "is_rate_limited",
    "require_admin",
]
