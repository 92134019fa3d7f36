"""Pydantic models of the identity API (the edge only; never stored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from muster.core.messages import Actor
from muster.identity.queries import DepartmentView, UserView


class DepartmentOut(BaseModel):
    """A department with its names in both languages."""

    model_config = ConfigDict(frozen=True)

    code: str
    name_zh: str
    name_en: str
    type: str
    parent_code: str | None

    @classmethod
    def of(cls, view: DepartmentView) -> DepartmentOut:
        """Build the response model from the read model."""
        return cls(
            code=view.code,
            name_zh=view.name_zh,
            name_en=view.name_en,
            type=view.type,
            parent_code=view.parent_code,
        )


class MeOut(BaseModel):
    """Who the caller is: a person (session) or a machine (API key)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    id: str
    name: str
    department: DepartmentOut | None
    roles: list[str]
    username: str | None = None
    language: str | None = None

    @classmethod
    def of(
        cls,
        actor: Actor,
        *,
        user: UserView | None,
        department: DepartmentView | None,
    ) -> MeOut:
        """Build the response from the actor and, for people, their account."""
        return cls(
            kind=actor.kind,
            id=actor.id,
            name=user.display_name if user else actor.name,
            department=DepartmentOut.of(department) if department else None,
            roles=sorted(actor.roles),
            username=user.username if user else None,
            language=user.language if user else None,
        )


__all__ = ["DepartmentOut", "MeOut"]
