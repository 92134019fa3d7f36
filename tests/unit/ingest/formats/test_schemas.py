"""The schemas shipped in the package are the corpus's official copies, unedited."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

SHIPPED = resources.files("muster.ingest.formats") / "schemas"


class TestShippedSchemas:
    @pytest.mark.parametrize(
        ("shipped", "original"),
        [
            ("CAP-v1.2.xsd", "cap/schema/CAP-v1.2.xsd"),
            ("edxlde-1_0.xsd", "edxl/schema/edxlde-1_0.xsd"),
        ],
    )
    def test_schema_is_a_byte_identical_copy(
        self, corpus: Path, shipped: str, original: str
    ) -> None:
        """Each shipped XSD equals the corpus copy it was taken from, byte for byte."""
        copied = (SHIPPED / shipped).read_bytes()

        assert copied == (corpus / original).read_bytes()

    def test_cap_schema_keeps_the_oasis_header(self) -> None:
        """The CAP schema still carries its OASIS copyright line."""
        header = (SHIPPED / "CAP-v1.2.xsd").read_bytes()[:200]

        assert b"Copyright OASIS Open 2010" in header

    def test_schema_folder_says_where_the_files_come_from(self) -> None:
        """The schemas folder has a README naming each file's source."""
        readme = (SHIPPED / "README.md").read_text(encoding="utf-8")

        assert "CAP-v1.2.xsd" in readme
        assert "edxlde-1_0.xsd" in readme
