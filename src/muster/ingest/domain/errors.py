"""Errors of the ingest part."""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound


class UnknownDataset(NotFound):
    """No dataset in the catalog has this code."""

    code = "unknown_dataset"


class UnknownQuarantineItem(NotFound):
    """No quarantined item has this id."""

    code = "unknown_quarantine_item"


class QuarantineItemClosed(DomainError):
    """The quarantined item was already resolved or discarded."""

    code = "quarantine_closed"
