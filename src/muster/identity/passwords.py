"""Password hashing with argon2id (the adapter behind the PasswordHasher port)."""

from __future__ import annotations

from typing import Protocol

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher(Protocol):
    """Hashes and checks passwords."""

    def hash(self, password: str) -> str:
        """Return a salted hash of the password."""
        ...

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Tell whether the password matches the hash (None never matches)."""
        ...


class Argon2PasswordHasher:
    """argon2id with library defaults, or cheaper parameters for the test suite."""

    def __init__(self, *, fast: bool = False) -> None:
        self._hasher = (
            Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1)
            if fast
            else Argon2Hasher()
        )
        # Compared against when the username is unknown, so timing does not tell.
        self._dummy = self._hasher.hash("no such user: timing equaliser")

    def hash(self, password: str) -> str:
        """Return an argon2id hash of the password."""
        return str(self._hasher.hash(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Tell whether the password matches; an absent hash never matches."""
        try:
            return bool(
                self._hasher.verify(password_hash or self._dummy, password)
            ) and (password_hash is not None)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


__all__ = ["Argon2PasswordHasher", "PasswordHasher"]
