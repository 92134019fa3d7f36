"""The deployment's Ed25519 checkpoint-signing key: create, load, export.

Imported by the unit of work, audit commands and bootstrap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from muster.core.errors import ConfigurationError
from muster.core.eventlog.chain import key_id


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key that signs checkpoints, with its short id."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        """Return the matching public key."""
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        """Return the key's short identifier."""
        return key_id(self.public_key)

    def public_pem(self) -> bytes:
        """Return the public key as PEM (safe to publish)."""
        return self.public_key.public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )


def create_signing_key(path: Path) -> SigningKey:
    """Create a new key file readable only by its owner; refuse to overwrite."""
    if path.exists():
        raise ConfigurationError(f"signing key {path} already exists", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return SigningKey(private_key)


def load_signing_key(path: Path) -> SigningKey:
    """Load the key file, or explain how to create one."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise ConfigurationError(
            f"no checkpoint-signing key at {path}; run `muster init`", path=str(path)
        ) from error
    key = load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(
            f"{path} is not an Ed25519 private key", path=str(path)
        )
    return SigningKey(key)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Load a published public key (PEM)."""
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError("not an Ed25519 public key")
    return key


__all__ = [
    "SigningKey",
    "create_signing_key",
    "load_public_key",
    "load_signing_key",
]
