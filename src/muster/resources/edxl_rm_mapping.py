"""What the EDXL-RM import mappers share: the operator's options, the planned items,
the refusal, and what the ingest parser leaves out of a message.

``Mapper`` holds a message being mapped and the reads both mappers need (the
department a message speaks for, whole units, times with an offset);
``read_extras`` reads per ResourceInfoElementID a place's ``gml:pos``, an answer's
``ResponseReason`` and a request's ``SpecialRequirements``. Imported by
``resources.edxl_rm_import``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import NoReturn

from lxml import etree
from sqlalchemy.engine import Connection

from muster.core.messages import Command
from muster.identity import queries as identity
from muster.ingest.formats.edxl_rm import (
    RM,
    RMSG,
    EdxlResourceItem,
    EdxlResourceMessage,
    EdxlSchedule,
)
from muster.ingest.formats.secure_xml import parse_xml
from muster.resources.edxl_rm import OURS, EdxlRmRefused


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the operator says where the message names things Muster does not have.

    Explicit options win over what the message says."""

    incident_id: str | None = None
    department: str | None = None
    """The requester of a RequestResource, or who declines in a CommitResource."""
    type_map: Mapping[str, str] = field(default_factory=dict)
    """Type name in the message (NIMS ``TypeInfo/Resource`` or ``TypeStructure``
    value) → Muster type code."""
    resource_map: Mapping[str, str] = field(default_factory=dict)
    """``Resource/ResourceID`` in the message → Muster resource id."""


@dataclass(frozen=True, slots=True)
class ItemExtras:
    """What the ingest parser does not read: a place's point, an answer's reason,
    a request's special requirements."""

    points: Mapping[str, tuple[float, float] | None] = field(default_factory=dict)
    """Schedule type → (lat, lon) of its ``TargetArea`` ``gml:pos`` (None: a
    position is there but is not two numbers on the globe)."""
    reason: str | None = None
    requirements: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """What one ResourceInformation becomes: a command, or nothing (seen before)."""

    element_id: str
    action: str  # request, commit, decline
    record_id: str  # the request or commitment id
    command: Command | None
    notes: tuple[str, ...] = ()


def refuse(
    message: EdxlResourceMessage, why: str, *, field: str, element: str | None = None
) -> NoReturn:
    """Refuse the whole message, naming it, the element and why."""
    where = f"{message.message_type} {message.message_id}"
    if element is not None:
        where += f", {element}"
    raise EdxlRmRefused(f"EDXL-RM {where}: {why}", field=field, element=element)


class Mapper:
    """Shared reads of a message being mapped."""

    def __init__(
        self, message: EdxlResourceMessage, conn: Connection, options: ImportOptions
    ) -> None:
        self.message, self.conn, self.options = message, conn, options

    def refuse(self, why: str, *, field: str, element: str | None = None) -> NoReturn:
        """Refuse the message being mapped."""
        refuse(self.message, why, field=field, element=element)

    def ref(self, element_id: str) -> str:
        """Return the ``external_ref`` of an element: ``MessageID#ElementID``."""
        return f"{self.message.message_id}#{element_id}"

    def is_ours(self) -> bool:
        """Tell whether a Muster wrote the message (its element ids are our ids)."""
        return self.message.message_id.startswith(OURS)

    def department(self, roles: tuple[str, ...]) -> str | None:
        """Return the option's department, or a contact's in these roles that
        names a Muster department (None when there is none)."""
        if self.options.department is not None:
            if identity.get_department(self.conn, self.options.department) is None:
                self.refuse(
                    f"--department {self.options.department} is not a Muster "
                    "department",
                    field="department",
                )
            return self.options.department
        for contact in self.message.contacts:
            code = contact.description or ""
            if (contact.role or "") in roles and identity.get_department(
                self.conn, code
            ):
                return code
        return None

    def units(self, item: EdxlResourceItem, *, default: int | None) -> int:
        """Return the whole units an item gives (``default`` if none; None: refuse)."""
        element = item.element_id
        if item.quantity is None:
            if default is None:
                self.refuse("it gives no Quantity", field="Quantity", element=element)
            return int(default or 0)
        try:
            amount = Decimal(item.quantity)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount != amount.to_integral_value() or amount < 1:
            self.refuse(
                f"quantity {item.quantity!r} is not a whole number of units",
                field="Quantity",
                element=element,
            )
        return int(amount)

    def time(self, schedule: EdxlSchedule | None, element: str | None) -> str | None:
        """Return a schedule's DateTime as ISO UTC; refuse one without an offset."""
        if schedule is None or schedule.when_text is None:
            return None
        if schedule.when is None:
            self.refuse(
                f"{schedule.schedule_type} DateTime {schedule.when_text!r} has no UTC "
                "offset (Muster does not guess the zone) or is not a date-time",
                field="DateTime",
                element=element,
            )
        return schedule.when.astimezone(UTC).isoformat()


def schedule_of(item: EdxlResourceItem, *kinds: str) -> EdxlSchedule | None:
    """Return the item's first schedule of the first of these kinds present."""
    for kind in kinds:
        for schedule in item.schedules:
            if (schedule.schedule_type or "").casefold() == kind.casefold():
                return schedule
    return None


def muster_keywords(item: EdxlResourceItem) -> dict[str, str]:
    """Return an item's ``urn:muster:*`` keywords (Muster's own fields)."""
    return {urn: value for urn, value in item.keywords if urn.startswith(OURS)}


def name_key(name: str) -> str:
    """Return a type name as compared: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()


def read_extras(data: bytes) -> dict[str, ItemExtras]:
    """Read, per ResourceInfoElementID, what the ingest parser leaves out."""
    root = parse_xml(data)
    found: dict[str, ItemExtras] = {}
    for info in root.iterfind(f"{{{RMSG}}}ResourceInformation"):
        element = (info.findtext(f"{{{RMSG}}}ResourceInfoElementID") or "").strip()
        points: dict[str, tuple[float, float] | None] = {}
        for schedule in info.iterfind(f"{{{RMSG}}}ScheduleInformation"):
            kind = (schedule.findtext(f"{{{RMSG}}}ScheduleType") or "").strip()
            area = schedule.find(f"{{{RMSG}}}Location/{{{RM}}}TargetArea")
            positions = [] if area is None else _positions(area)
            if positions and kind not in points:
                points[kind] = _point(positions[0])
        reason = info.findtext(f"{{{RMSG}}}ResponseInformation/{{{RM}}}ResponseReason")
        needs = info.findtext(f"{{{RMSG}}}Resource/{{{RMSG}}}SpecialRequirements")
        found[element] = ItemExtras(
            points=points,
            reason=(reason or "").strip() or None,
            requirements=(needs or "").strip() or None,
        )
    return found


def _positions(area: etree._Element) -> list[str]:
    """Return the texts of a TargetArea's ``gml:pos`` elements (any GML version)."""
    return [
        element.text or ""
        for element in area.iter()
        if isinstance(element.tag, str) and etree.QName(element).localname == "pos"
    ]


def _point(position: str) -> tuple[float, float] | None:
    """Return a ``gml:pos`` "lat lon" as numbers, None if it is not one on the globe."""
    try:
        lat, lon = (float(part) for part in position.split())
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


__all__ = [
    "ImportOptions",
    "ItemExtras",
    "Mapper",
    "PlannedItem",
    "muster_keywords",
    "name_key",
    "read_extras",
    "refuse",
    "schedule_of",
]
