"""Pydantic models of the notify API (the edge only; never stored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from muster.notify.queries import InboxItem


class NotificationOut(BaseModel):
    """An in-app notification as its recipient sees it."""

    model_config = ConfigDict(frozen=True)

    id: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    link: str
    incident_id: str | None
    cause_type: str
    is_exercise: bool
    is_read: bool
    delivered_at: str

    @classmethod
    def of(cls, item: InboxItem) -> NotificationOut:
        """Build the response model from the read model."""
        return cls(
            id=item.notification_id,
            subject_zh=item.subject_zh,
            subject_en=item.subject_en,
            body_zh=item.body_zh,
            body_en=item.body_en,
            link=item.link,
            incident_id=item.incident_id,
            cause_type=item.cause_type,
            is_exercise=item.is_exercise,
            is_read=item.is_read,
            delivered_at=item.delivered_at,
        )


class ReadOut(BaseModel):
    """Whether marking a notification read changed it (False: it was read already)."""

    changed: bool


__all__ = ["NotificationOut", "ReadOut"]
