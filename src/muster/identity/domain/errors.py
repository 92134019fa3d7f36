"""Errors of the identity part (subclasses of the core tree)."""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound, ValidationFailed


class UnknownDepartment(NotFound):
    """No department has this code."""

    code = "unknown_department"


class UsernameTaken(DomainError):
    """Another account already uses this username."""

    code = "username_taken"


class InvalidUserData(ValidationFailed):
    """Username, roles, language or password do not meet the rules."""

    code = "invalid_user"


class UnknownApiKey(NotFound):
    """No API key has this id."""

    code = "unknown_api_key"
