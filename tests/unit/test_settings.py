"""Settings refuse unsafe values before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from muster.settings import Settings


class TestSettings:
    def test_prod_mode_refuses_the_placeholder_secret(self) -> None:
        """Outside dev mode, the default placeholder secret is refused."""
        values = {"mode": "prod"}

        with pytest.raises(ValidationError, match="placeholder"):
            Settings(**values)  # type: ignore[arg-type]

    def test_prod_mode_refuses_a_short_secret(self) -> None:
        """A secret shorter than 32 characters is refused outside dev mode."""
        values = {"mode": "prod", "secret_key": "too-short-but-not-a-placeholder"}

        with pytest.raises(ValidationError, match="32 characters"):
            Settings(**values)  # type: ignore[arg-type]

    def test_dev_mode_allows_the_placeholder(self) -> None:
        """Dev mode runs with the placeholder so a newcomer needs no set-up."""
        values = {"mode": "dev"}

        settings = Settings(**values)  # type: ignore[arg-type]

        assert settings.is_secure_cookies is False

    def test_unknown_database_scheme_is_refused(self) -> None:
        """Only SQLite and PostgreSQL (psycopg 3) URLs are accepted."""
        values = {"mode": "dev", "database_url": "mysql://db/muster"}

        with pytest.raises(ValidationError, match="MUSTER_DATABASE_URL"):
            Settings(**values)  # type: ignore[arg-type]

    def test_default_database_is_a_file_in_the_data_folder(
        self, tmp_path: Path
    ) -> None:
        """Without a URL, the database is muster.db in the data folder."""
        values = {"mode": "dev", "data_dir": tmp_path}

        settings = Settings(**values)  # type: ignore[arg-type]

        assert settings.effective_database_url == f"sqlite:///{tmp_path / 'muster.db'}"
