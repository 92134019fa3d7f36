"""The command and event that set a deployment's cascade model (灾害链模型).

``RegisterCascadeModel`` carries a pack's checked ``cascades.yaml``; the stream
``cascade-model`` records each version as ``CascadeModelRegistered``, which the
cascade handlers' projector keeps in ``situation_cascade_model``. Imported by the
pack loader and ``muster.situation.cascade_handlers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Command, Event, JsonValue, event_type


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterCascadeModel(Command):
    """Replace the deployment's cascade model with a checked cascades document."""

    document: dict[str, JsonValue]
    source: str = "pack"


@event_type("situation.CascadeModelRegistered", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class CascadeModelRegistered(Event):
    """The cascade model was set (the whole checked document)."""

    document: dict[str, JsonValue]
    hazards: int
    rules: int
    source: str


__all__ = ["CascadeModelRegistered", "RegisterCascadeModel"]
