"""Parsers for incoming bytes: CAP 1.2 alerts, EDXL-DE envelopes, EDXL-RM messages.

Bytes in, a frozen typed result or one clean ``FormatRejected`` out; no database, no
network, no disk reads beyond the schemas shipped in ``schemas/``. Imported by the
ingest handlers and the CLI. Decisions (details in each module's docstring):

- XML is parsed by ``secure_xml.parse_xml`` only: DOCTYPE, entity declarations and
  XInclude are refused, never resolved.
- CAP 1.0 and 1.1 are rejected with reason ``unsupported_version``; Muster accepts
  CAP 1.2 only (convert upstream).
- Signatures are checked by pinning the certificate (or key) embedded in the alert:
  integrity is verified, the signer's identity is NOT (no trust store, no chain).
  A signature that fails rejects the alert (``signature_invalid``); an empty
  ``<Signature/>`` placeholder counts as no signature (``signatures.py``).
"""

from __future__ import annotations

from typing import Literal

from muster.core.errors import ValidationFailed

RejectionReason = Literal[
    "not_xml",
    "too_large",
    "refused_dtd",
    "refused_entity",
    "refused_xinclude",
    "schema",
    "signature_invalid",
    "semantic",
    "unsupported_version",
    "not_cap",
    "not_edxl",
]
"""Stable machine codes for refusing a whole XML document."""


class FormatRejected(ValidationFailed):
    """An XML document was refused as a whole; nothing from it may be used."""

    code = "format_rejected"

    def __init__(
        self,
        message: str,
        *,
        reason: RejectionReason,
        line: int | None = None,
        xpath: str | None = None,
    ) -> None:
        super().__init__(message, reason=reason, line=line, xpath=xpath)
        self.reason: RejectionReason = reason
        self.line = line
        self.xpath = xpath

    def __str__(self) -> str:
        """Render as ``reason line N at XPATH: message`` for logs and the CLI."""
        where = "".join(
            part
            for part in (
                f" line {self.line}" if self.line is not None else "",
                f" at {self.xpath}" if self.xpath else "",
            )
        )
        return f"{self.reason}{where}: {self.message}"


# The parsers import FormatRejected from this module, so they load after it.
from muster.ingest.formats.cap import (  # noqa: E402
    CapAlert,
    CapArea,
    CapInfo,
    CapReference,
    CapResource,
    SignatureStatus,
    parse_cap,
)
from muster.ingest.formats.edxl import (  # noqa: E402
    EdxlContentObject,
    EdxlDistribution,
    EdxlPayload,
    EdxlTargetArea,
    parse_edxl_de,
)
from muster.ingest.formats.edxl_rm import (  # noqa: E402
    EdxlContact,
    EdxlResourceItem,
    EdxlResourceMessage,
    EdxlSchedule,
    parse_edxl_rm,
)
from muster.ingest.formats.secure_xml import parse_xml  # noqa: E402

__all__ = [
    "CapAlert",
    "CapArea",
    "CapInfo",
    "CapReference",
    "CapResource",
    "EdxlContact",
    "EdxlContentObject",
    "EdxlDistribution",
    "EdxlPayload",
    "EdxlResourceItem",
    "EdxlResourceMessage",
    "EdxlSchedule",
    "EdxlTargetArea",
    "FormatRejected",
    "RejectionReason",
    "SignatureStatus",
    "parse_cap",
    "parse_edxl_de",
    "parse_edxl_rm",
    "parse_xml",
]
