"""Errors of the resources part (subclasses of the core tree).

Raised by ``muster.resources.domain.model`` and ``muster.resources.handlers``.
"""

from __future__ import annotations

from muster.core.errors import DomainError, NotFound, ValidationFailed


class ResourceTypeInvalid(ValidationFailed):
    """A resource type's code, names, kind, unit, measure or tiers break the rules."""

    code = "resource_type_invalid"


class ResourceInvalid(ValidationFailed):
    """A resource's fields (or a status change's reason or incident) break the
    rules."""

    code = "resource_invalid"


class TransitionNotAllowed(DomainError):
    """A resource may not move from its status to the status asked for."""

    code = "resource_transition"


class RequestConflict(DomainError):
    """A request, commitment or proposal is not in a state that allows this (a
    cancelled request, a decided proposal, an id taken, a closed incident)."""

    code = "resource_request_conflict"


class UnknownResourceType(NotFound):
    """No resource type has this code."""

    code = "unknown_resource_type"


class UnknownResource(NotFound):
    """No resource has this id."""

    code = "unknown_resource"


__all__ = [
    "RequestConflict",
    "ResourceInvalid",
    "ResourceTypeInvalid",
    "TransitionNotAllowed",
    "UnknownResource",
    "UnknownResourceType",
]
