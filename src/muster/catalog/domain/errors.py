"""Errors of the catalog part (subclasses of the core tree)."""

from __future__ import annotations

from muster.core.errors import NotFound, ValidationFailed


class InvalidDataset(ValidationFailed):
    """A dataset entry or one of its fields breaks a catalog rule."""

    code = "invalid_dataset"


class SensitiveDataGradedGeneral(ValidationFailed):
    """A dataset with sensitive personal fields was graded GENERAL (就高从严)."""

    code = "sensitive_data_graded_general"


class UnknownOwnerDepartment(ValidationFailed):
    """The department named as a dataset's owner does not exist."""

    code = "unknown_owner_department"


class UnknownDataset(NotFound):
    """No dataset has this code."""

    code = "unknown_dataset"


__all__ = [
    "InvalidDataset",
    "SensitiveDataGradedGeneral",
    "UnknownDataset",
    "UnknownOwnerDepartment",
]
