"""The one error tree of Muster. Raised anywhere; translated once at each edge.

::

    MusterError                     base; never raised directly
      DomainError                   a rule refused a command          -> 409/422, exit 3
        ValidationFailed            input is malformed or incomplete  -> 422, exit 3
        PackInvalid                 a deployment pack fails checks    -> 422, exit 3
      NotFound                      the thing asked for is missing    -> 404, exit 4
      AuthenticationFailed          who you are is not established    -> 401, exit 5
        SignInRateLimited           too many failed sign-ins          -> 429, exit 5
      PermissionDenied              you may not do this               -> 403, exit 5
      ConcurrencyConflict           the stream moved; retry           -> 409, exit 6
      ConfigurationError            settings or files are unusable    -> 500, exit 7
      ChainBroken                   the event log fails verification  -> 500, exit 10

Every error carries a message id (``code``) and parameters so that the web and CLI
edges can show it in the user's language. Imported by every layer.
"""

from __future__ import annotations

from dataclasses import dataclass


class MusterError(Exception):
    """Base of every error Muster raises on purpose."""

    code: str = "error"

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class DomainError(MusterError):
    """A business rule refused a command; nothing was written."""

    code = "domain"


class ValidationFailed(DomainError):
    """Input was malformed, incomplete or out of range."""

    code = "validation"


@dataclass(frozen=True, slots=True)
class PackProblem:
    """One problem found in a deployment pack, located by file and line."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class PackInvalid(DomainError):
    """A deployment pack failed validation; nothing from it was loaded."""

    code = "pack_invalid"

    def __init__(self, problems: list[PackProblem]) -> None:
        super().__init__(
            f"the pack has {len(problems)} problem(s)", count=len(problems)
        )
        self.problems = problems


class NotFound(MusterError):
    """The requested object does not exist (or is not visible to you)."""

    code = "not_found"


class AuthenticationFailed(MusterError):
    """Credentials, session or API key are missing, wrong, expired or revoked."""

    code = "authentication"


class SignInRateLimited(AuthenticationFailed):
    """Too many failed sign-ins for this account in the recent window."""

    code = "rate_limited"


class PermissionDenied(MusterError):
    """The actor is known but may not perform this action."""

    code = "permission"


class ConcurrencyConflict(MusterError):
    """Another writer appended to the same stream first; the command may be retried."""

    code = "conflict"


class ConfigurationError(MusterError):
    """Settings, keys or files needed to run are missing or unsafe."""

    code = "configuration"


class ChainBroken(MusterError):
    """The hash chain or a checkpoint signature failed verification."""

    code = "chain_broken"

    def __init__(self, first_bad_seq: int, reason: str) -> None:
        super().__init__(
            f"event log verification failed at seq {first_bad_seq}: {reason}",
            seq=first_bad_seq,
        )
        self.first_bad_seq = first_bad_seq
        self.reason = reason


ERROR_TREE: tuple[type[MusterError], ...] = (
    MusterError,
    DomainError,
    ValidationFailed,
    PackInvalid,
    NotFound,
    AuthenticationFailed,
    SignInRateLimited,
    PermissionDenied,
    ConcurrencyConflict,
    ConfigurationError,
    ChainBroken,
)

__all__ = [
    "ERROR_TREE",
    "AuthenticationFailed",
    "ChainBroken",
    "ConcurrencyConflict",
    "ConfigurationError",
    "DomainError",
    "MusterError",
    "NotFound",
    "PackInvalid",
    "PackProblem",
    "PermissionDenied",
    "SignInRateLimited",
    "ValidationFailed",
]
