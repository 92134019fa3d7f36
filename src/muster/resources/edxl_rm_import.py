"""EDXL-RM 1.0 messages in: RequestResource and CommitResource to commands.

``plan_import`` parses a message (``muster.ingest.formats.edxl_rm``) and maps it to
``RequestResource``, ``CommitResource`` (Accept) and ``DeclineRequest`` (Decline)
commands, or refuses the whole message with ``EdxlRmRefused`` naming the element
and the override that would help (``ImportOptions``: incident, department, type and
resource maps); ``run_import`` sends the commands in one transaction. Records seen
before plan no command ("unchanged"). Documented in docs/edxl-rm.md. Imported by
``resources.edxl_cli``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from muster.core.bus import MessageBus
from muster.core.messages import Actor, Command
from muster.ingest.formats.edxl_rm import (
    EdxlResourceItem,
    EdxlResourceMessage,
    parse_edxl_rm,
)
from muster.resources import queries, request_queries
from muster.resources.domain.commands import (
    CommitResource,
    DeclineRequest,
    RequestResource,
)
from muster.resources.domain.model import ResourceType
from muster.resources.edxl_rm import (
    DEPARTMENT,
    MIN_CAPABILITY,
    PRIORITY,
    TASK,
    TO_DEPARTMENT,
    TYPE_LIST,
    record_id,
)
from muster.resources.edxl_rm_mapping import (
    ImportOptions,
    ItemExtras,
    Mapper,
    PlannedItem,
    muster_keywords,
    name_key,
    read_extras,
    refuse,
    schedule_of,
)
from muster.resources.request_queries import RequestView
from muster.response import queries as response

NIMS_NAMES = {
    "ambulance ground team": "AMBULANCE",
    "engine, fire (structure)": "FIRE_ENGINE",
    "swiftwater/flood search and rescue team": "WATER_RESCUE_TEAM",
    "urban search and rescue (us&r) task force": "RESCUE_TEAM",
    "structural collapse rescue team": "RESCUE_TEAM",
    "hazardous materials (hazmat) response team": "HAZMAT_TEAM",
    "emergency medical task force": "MEDICAL_TEAM",
    "law enforcement patrol team": "POLICE_TEAM",
    "small unmanned aircraft system (suas)": "DRONE",
    "mobile communications center": "COMMAND_VEHICLE",
    "hydraulic excavator": "EXCAVATOR",
}
"""NIMS resource names with a clear Muster type (used when that code is in the
catalog). No "Track Dozer": Muster's catalog has no dozer, and an excavator is not
one; such a type needs an explicit ``--type-map``."""
_TIER = re.compile(r"^(?:type\s*)?(iv|i{1,3}|[1-4])$", re.IGNORECASE)
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV"}


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The commands one message maps to, in its order."""

    message_id: str
    message_type: str
    items: tuple[PlannedItem, ...]

    @property
    def commands(self) -> list[Command]:
        """Return the commands to send (items seen before send none)."""
        return [item.command for item in self.items if item.command is not None]


def plan_import(
    data: bytes, *, conn: Connection, options: ImportOptions | None = None
) -> ImportPlan:
    """Parse an EDXL-RM message and map it (``FormatRejected`` for bad XML)."""
    message = parse_edxl_rm(data)
    return import_message(
        message, conn=conn, options=options or ImportOptions(), extras=read_extras(data)
    )


def import_message(
    message: EdxlResourceMessage,
    *,
    conn: Connection,
    options: ImportOptions,
    extras: Mapping[str, ItemExtras] | None = None,
) -> ImportPlan:
    """Map a parsed RequestResource or CommitResource to commands, or refuse it."""
    if not message.items:
        refuse(message, "it has no ResourceInformation", field="ResourceInformation")
    ids = [item.element_id for item in message.items]
    if None in ids or len(set(ids)) != len(ids):
        refuse(
            message,
            "every ResourceInformation needs its own ResourceInfoElementID",
            field="ResourceInfoElementID",
        )
    found = extras or {}
    if message.message_type == "RequestResource":
        planned = _RequestMapper(message, conn, options).items(found)
    elif message.message_type == "CommitResource":
        planned = _AnswerMapper(message, conn, options).items(found)
    else:
        refuse(
            message,
            f"Muster imports RequestResource and CommitResource, not "
            f"{message.message_type}",
            field="MessageContentType",
        )
    return ImportPlan(message.message_id, message.message_type, tuple(planned))


def run_import(bus: MessageBus, actor: Actor, plan: ImportPlan) -> list[dict[str, Any]]:
    """Send a plan's commands in one transaction; return what became of each item."""
    answers = iter(bus.handle_batch(plan.commands, actor))
    return [
        {
            "element_id": item.element_id,
            "action": item.action,
            "id": item.record_id,
            "result": "unchanged" if item.command is None else str(next(answers)),
            "notes": list(item.notes),
        }
        for item in plan.items
    ]


class _RequestMapper(Mapper):
    """RequestResource → one RequestResource command per ResourceInformation."""

    def items(self, extras: Mapping[str, ItemExtras]) -> list[PlannedItem]:
        planned: list[PlannedItem] = []
        pending: list[EdxlResourceItem] = []
        for item in self.message.items:
            element = item.element_id or ""
            request_id = record_id("RQ", self.message.message_id, element)
            known = request_queries.get_request(self.conn, request_id)
            if known is not None and (
                self.is_ours() or known.external_ref == self.ref(element)
            ):
                planned.append(PlannedItem(element, "request", request_id, None))
            else:
                pending.append(item)
        if pending:
            incident, requester = self._incident(), self._requester()
            catalog = {t.code: t for t in queries.list_types(self.conn)}
            for item in pending:
                planned.append(
                    self._request(item, incident, requester, catalog, extras)
                )
        order = [item.element_id for item in self.message.items]
        return sorted(planned, key=lambda p: order.index(p.element_id))

    def _incident(self) -> str:
        named = self.options.incident_id or next(iter(self.message.incident_ids), None)
        if named is None:
            self.refuse(
                "it names no incident (IncidentInformation/IncidentID); pass "
                "--incident ID",
                field="IncidentID",
            )
        if response.get_incident(self.conn, named) is None:
            self.refuse(
                f"incident {named!r} is not a Muster incident; pass --incident ID "
                "to file the request under one of ours",
                field="IncidentID",
            )
        return named

    def _requester(self) -> str:
        found = self.department(("Requester",))
        if found is None:
            said = [c.description for c in self.message.contacts if c.description]
            self.refuse(
                f"the requester ({', '.join(map(repr, said)) or 'no contact'}) is "
                "not a Muster department code; pass --department CODE",
                field="ContactInformation",
            )
        return found

    def _request(
        self,
        item: EdxlResourceItem,
        incident: str,
        requester: str,
        catalog: Mapping[str, ResourceType],
        extras: Mapping[str, ItemExtras],
    ) -> PlannedItem:
        element = item.element_id or ""
        of_type = self._type(item, catalog)
        tier, notes = self._tier(item, of_type)
        arrival = schedule_of(item, "RequestedArrival", "ReportTo")
        more = extras.get(element, ItemExtras())
        kind = (arrival.schedule_type or "") if arrival else ""
        point = more.points.get(kind)
        if kind in more.points and point is None:
            self.refuse(
                f"the {kind} TargetArea position is not 'lat lon' on the globe",
                field="TargetArea",
                element=element,
            )
        said = muster_keywords(item)
        task = said.get(TASK)
        if task is not None and response.get_task(self.conn, task) is None:
            task = None  # the task lives in the sending deployment only
        note = "; ".join(filter(None, [more.requirements or "", *notes]))
        command = RequestResource(
            incident_id=incident,
            requested_by=requester,
            type_code=of_type.code,
            quantity=self.units(item, default=None),
            latitude=None if point is None else point[0],
            longitude=None if point is None else point[1],
            location_name=(arrival.location or "") if arrival else "",
            min_capability=self._number(said, MIN_CAPABILITY, element),
            max_tier=tier,
            needed_by=self.time(arrival, element),
            priority=self._priority(said, element),
            to_department=said.get(TO_DEPARTMENT),
            task_id=task,
            note=note,
            request_id=record_id("RQ", self.message.message_id, element),
            external_ref=self.ref(element),
        )
        return PlannedItem(
            element, "request", command.request_id or "", command, tuple(notes)
        )

    def _type(
        self, item: EdxlResourceItem, catalog: Mapping[str, ResourceType]
    ) -> ResourceType:
        ours = (
            item.type_list[1]
            if item.type_list and item.type_list[0] == TYPE_LIST
            else None
        )
        names = [text for tag, text in item.type_info if tag == "Resource" and text]
        if item.type_list and ours is None and item.type_list[1]:
            names.append(item.type_list[1])
        explicit = {name_key(k): v for k, v in self.options.type_map.items()}
        for name in [ours, *names]:
            code = explicit.get(name_key(name)) if name else None
            if code is not None:
                if code not in catalog:
                    self.refuse(
                        f"--type-map maps {name!r} to {code}, which is not in the "
                        "typing catalog",
                        field="type_map",
                        element=item.element_id,
                    )
                return catalog[code]
        if ours is not None and ours in catalog:
            return catalog[ours]
        by_name = {
            name_key(n): t
            for t in catalog.values()
            for n in (t.code, t.name_en, t.name_zh)
        }
        for name in names:
            if name_key(name) in by_name:
                return by_name[name_key(name)]
            if NIMS_NAMES.get(name_key(name)) in catalog:
                return catalog[NIMS_NAMES[name_key(name)]]
        shown = ", ".join(repr(n) for n in [ours, *names] if n) or "none given"
        return self.refuse(
            f"resource type {shown} has no Muster type; pass --type-map "
            f"'{(names or [ours or 'NAME'])[0]}=CODE' (codes: muster resources types)",
            field="TypeStructure",
            element=item.element_id,
        )

    def _tier(
        self, item: EdxlResourceItem, of_type: ResourceType
    ) -> tuple[str | None, list[str]]:
        """Return the tier asked for, or keep it as a note where the type has none."""
        said = next(
            (t for tag, t in item.type_info if tag == "MinimumCapabilities"), ""
        )
        if not said:
            return None, []
        match = _TIER.match(said.strip())
        tier = None if match is None else _ROMAN.get(match[1], match[1].upper())
        if tier is not None and tier in of_type.tiers:
            return tier, []
        return None, [
            f"minimum capabilities asked: {said} ({of_type.code} has no such tier)"
        ]

    def _number(self, said: Mapping[str, str], urn: str, element: str) -> float | None:
        if urn not in said:
            return None
        try:
            value = float(said[urn])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.refuse(
                f"{urn} {said[urn]!r} is not a number", field="Keyword", element=element
            )
        return value

    def _priority(self, said: Mapping[str, str], element: str) -> int | None:
        text = said.get(PRIORITY)
        if text is None:
            return None
        if not text.strip().isdigit():
            self.refuse(
                f"priority {text!r} is not a whole number",
                field="Keyword",
                element=element,
            )
        return int(text)


class _AnswerMapper(Mapper):
    """CommitResource → CommitResource (Accept) and DeclineRequest (Decline)."""

    def items(self, extras: Mapping[str, ItemExtras]) -> list[PlannedItem]:
        return [
            self._item(item, extras.get(item.element_id or "", ItemExtras()))
            for item in self.message.items
        ]

    def _item(self, item: EdxlResourceItem, more: ItemExtras) -> PlannedItem:
        element = item.element_id or ""
        kind = (item.response_type or "").casefold()
        if kind not in ("accept", "decline"):
            self.refuse(
                f"ResponseType {item.response_type!r} is not imported (Accept or "
                "Decline)",
                field="ResponseType",
                element=element,
            )
        request = self._request(item)
        if kind == "decline":
            return self._decline(item, request, more)
        commitment_id = record_id("CM", self.message.message_id, element)
        known = request_queries.get_commitment(self.conn, commitment_id)
        if known is not None and (
            self.is_ours() or known.external_ref == self.ref(element)
        ):
            return PlannedItem(element, "commit", commitment_id, None)
        command = CommitResource(
            request_id=request.request.id,
            resource_id=self._resource(item).resource.id,
            units=self.units(item, default=1),
            eta=self.time(schedule_of(item, "EstimatedArrival"), element),
            note=more.reason or "",
            commitment_id=commitment_id,
            external_ref=self.ref(element),
        )
        return PlannedItem(element, "commit", commitment_id, command)

    def _request(self, item: EdxlResourceItem) -> RequestView:
        """Return the Muster request an answer refers to, or refuse."""
        answered = item.preceding_element_id
        if answered is None:
            return self.refuse(
                "the answer names no PrecedingResourceInfoElementID",
                field="PrecedingResourceInfoElementID",
                element=item.element_id,
            )
        messages = list(
            dict.fromkeys(
                m
                for m in (
                    self.message.preceding_message_id,
                    self.message.originating_message_id,
                )
                if m
            )
        )
        candidates = [record_id("RQ", m, answered) for m in messages]
        for request_id in [*candidates, answered]:
            found = request_queries.get_request(self.conn, request_id)
            if found is not None:
                return found
        return self.refuse(
            f"it answers {answered} of "
            f"{' / '.join(messages) or 'an unnamed message'}, which "
            "matches no Muster request (import the RequestResource first)",
            field="PrecedingResourceInfoElementID",
            element=item.element_id,
        )

    def _resource(self, item: EdxlResourceItem) -> queries.ResourceView:
        theirs = item.resource_id
        ours = self.options.resource_map.get(theirs or "", theirs)
        found = None if ours is None else queries.get_resource(self.conn, ours)
        if found is None:
            return self.refuse(
                f"resource {theirs!r} (Resource/ResourceID) is not a Muster resource; "
                f"pass --resource-map '{theirs or 'ID'}=RESOURCE_ID'",
                field="ResourceID",
                element=item.element_id,
            )
        return found

    def _decline(
        self, item: EdxlResourceItem, request: RequestView, more: ItemExtras
    ) -> PlannedItem:
        element = item.element_id or ""
        department = muster_keywords(item).get(DEPARTMENT) or self.department(())
        if department is None and item.resource_id is not None:
            mapped = self.options.resource_map.get(item.resource_id, item.resource_id)
            found = queries.get_resource(self.conn, mapped)
            department = None if found is None else found.resource.department
        if department is None:
            self.refuse(
                f"who declines is unknown: resource {item.resource_id!r} is not a "
                "Muster resource; pass --department CODE or --resource-map",
                field="ContactInformation",
                element=element,
            )
        seen = request_queries.declines_of(self.conn, request.request.id)
        if any(d.department == department for d in seen):
            return PlannedItem(element, "decline", request.request.id, None)
        reason = more.reason or f"declined in EDXL-RM message {self.message.message_id}"
        command = DeclineRequest(
            request_id=request.request.id,
            department=department,
            reason=reason,
            external_ref=self.ref(element),
        )
        return PlannedItem(element, "decline", request.request.id, command)


__all__ = [
    "NIMS_NAMES",
    "ImportOptions",
    "ImportPlan",
    "import_message",
    "plan_import",
    "run_import",
]
