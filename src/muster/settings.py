"""Settings: the only place that reads the environment (R11).

Built once by ``get_settings()``; passed explicitly to ``bootstrap`` and ``create_app``.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-secret"})
DEV_SECRET = "change-me"  # noqa: S105  (the placeholder that prod mode refuses)
_SECRET_NAME = re.compile(r"MUSTER_[A-Z0-9_]{1,100}")


class Settings(BaseSettings):
    """Every setting of a Muster deployment, read from MUSTER_* variables or .env."""

    model_config = SettingsConfigDict(
        env_prefix="MUSTER_", env_file=".env", extra="ignore", frozen=True
    )

    mode: Literal["dev", "test", "prod"] = "prod"
    data_dir: Path = Path("muster-data")
    database_url: str = ""
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    signing_key_file: Path | None = None
    checkpoint_every: int = Field(default=1000, ge=1)
    checkpoint_interval_seconds: float = Field(default=300.0, gt=0)
    session_idle_minutes: float = Field(default=30.0, gt=0)
    session_absolute_hours: float = Field(default=12.0, gt=0)
    sign_in_max_failures: int = Field(default=5, ge=1)
    sign_in_failure_window_minutes: float = Field(default=15.0, gt=0)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    cookie_secure: bool | None = None
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    feed_poll_seconds: float = Field(default=1.0, gt=0)
    timezone: str = "Asia/Shanghai"
    quality_interval_seconds: float = Field(default=60.0, gt=0)
    consistency_distance_km: float = Field(default=5.0, gt=0)
    consistency_relative_tolerance: float = Field(default=0.5, ge=0)
    consistency_absolute_tolerance: float = Field(default=10.0, ge=0)
    # E-mail notifications (notify part); an empty host turns e-mail off.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "muster@localhost"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    # Public warnings by SMS (notify part): the gateway's URL; empty turns SMS off.
    sms_gateway_url: str = ""
    sms_gateway_token: SecretStr = SecretStr("")
    # The situation map's tile server ({z}/{x}/{y} URL template); empty: no tiles,
    # only the GeoJSON layers (no internet tiles by default).
    map_tile_url: str = ""
    # Sign published CAP alerts (XML-DSig, RSA-SHA256) with the deployment's alert key
    # and self-signed certificate, created in data_dir on first use.
    sign_alerts: bool = False
    # Set only in a drill's sandbox deployment (ADR 0013): every event appended here
    # is marked as an exercise of this drill.
    drill_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError(
                "MUSTER_DATABASE_URL must start with sqlite:/// or postgresql+psycopg://"
            )
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url_template(cls, value: str) -> str:
        if value and not (
            value.startswith(("https://", "http://", "/")) and "{z}" in value
        ):
            raise ValueError(
                "MUSTER_MAP_TILE_URL must be an http(s) or /path URL with {z}/{x}/{y}"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"MUSTER_TIMEZONE {value!r} is no IANA zone") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        """Return the deployment's local time zone (for naive times in data)."""
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if self.mode != "dev" and self.secret_key.get_secret_value() in (
            PLACEHOLDER_SECRETS
        ):
            raise ValueError(
                "MUSTER_SECRET_KEY is a placeholder; set a long random value "
                "(or use MUSTER_MODE=dev for local development)"
            )
        if self.mode != "dev" and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("MUSTER_SECRET_KEY must be at least 32 characters")
        return self

    @property
    def effective_database_url(self) -> str:
        """Return the database URL, defaulting to an SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'muster.db').resolve()}"

    @property
    def effective_signing_key_file(self) -> Path:
        """Return the path of the Ed25519 checkpoint-signing key."""
        return (
            self.signing_key_file or self.data_dir / "keys" / "checkpoint-ed25519.pem"
        )

    @property
    def is_secure_cookies(self) -> bool:
        """Tell whether cookies carry the Secure flag (default: outside dev mode)."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.mode == "prod"


def environment_secret(name: str) -> str | None:
    """Return a secret from the environment variable a pack names (a warning
    subscriber's ``secret_env``); only ``MUSTER_*`` names are read, never logged."""
    if not _SECRET_NAME.fullmatch(name):
        return None
    return os.environ.get(name) or None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings once from the environment."""
    return Settings()


__all__ = ["DEV_SECRET", "Settings", "environment_secret", "get_settings"]
