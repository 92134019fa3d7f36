"""EDXL-RM 1.0 for resource requests: the vocabulary, and messages out.

``export_request`` writes one request as a RequestResource; ``export_answers`` its
commitments (Accept) and declines (Decline, the reason as ResponseReason) as one
CommitResource; ``export_record`` picks one for a request or commitment id. Muster's
own fields ride in ``urn:muster:*`` value lists, so a Muster reading the message
back gets the same request (``edxl_rm_import``); ids are ``record_id``s. Documented
in docs/edxl-rm.md. Imported by ``resources.edxl_rm_import``, ``resources.edxl_cli``
and ``resources.api``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from lxml import etree
from sqlalchemy.engine import Connection

from muster.core.errors import NotFound, ValidationFailed
from muster.ingest.formats.edxl_rm import RM, RMSG
from muster.resources import queries, request_queries
from muster.resources.domain.requests import REQUEST_ID, Decline
from muster.resources.request_queries import CommitmentView, RequestView

GML = "http://www.opengis.net/gml"
TYPE_LIST = "urn:muster:resource-type"
"""ValueListURN of Muster's own type codes (``TypeStructure``)."""
OURS = "urn:muster:"
"""MessageIDs starting so were written by a Muster: their element ids are our ids."""
PRIORITY, MIN_CAPABILITY, TO_DEPARTMENT, TASK, DEPARTMENT = (
    f"{OURS}{name}"
    for name in ("priority", "min-capability", "to-department", "task", "department")
)

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class EdxlRmRefused(ValidationFailed):
    """An EDXL-RM message cannot become Muster records as it stands; nothing of it
    was written."""

    code = "edxl_rm_refused"


def record_id(kind: str, message_id: str, element_id: str) -> str:
    """Return the id of the request (``RQ``) or commitment (``CM``) an element makes:
    a Muster message's element id is ours; any other is a digest of both ids."""
    if message_id.startswith(OURS) and REQUEST_ID.match(element_id):
        return element_id
    digest = hashlib.sha256(f"{message_id}#{element_id}".encode()).hexdigest()
    return f"{kind}-{digest[:16]}"


def export_record(
    conn: Connection, item_id: str, *, sent: datetime, answers: bool = False
) -> bytes:
    """Return the message for a request (its RequestResource; with ``answers`` the
    CommitResource of its commitments and declines) or for one commitment."""
    view = request_queries.get_request(conn, item_id)
    if view is None:
        made = request_queries.get_commitment(conn, item_id)
        if made is None:
            raise NotFound(f"no request or commitment {item_id}", id=item_id)
        view = request_queries.get_request(conn, made.commitment.request_id)
        if view is None:
            raise NotFound(f"no request {made.commitment.request_id}", id=item_id)
        return export_answers(
            view, commitments=[made], declines=[], sent=sent,
            resource_names=_names(conn, [made]),
        )  # fmt: skip
    if not answers:
        of_type = queries.get_type(conn, view.request.type_code)
        name = "" if of_type is None else of_type.name_en
        return export_request(view, sent=sent, type_name=name)
    made_all = request_queries.list_commitments(conn, request_id=item_id)
    declines = request_queries.declines_of(conn, item_id)
    if not made_all and not declines:
        raise ValidationFailed(
            f"request {item_id} has no commitments or declines to export",
            field="answers",
        )
    return export_answers(
        view, commitments=made_all, declines=declines, sent=sent,
        resource_names=_names(conn, made_all),
    )  # fmt: skip


def _names(conn: Connection, made: Sequence[CommitmentView]) -> dict[str, str]:
    """Return the names of the committed resources."""
    names = {}
    for item in made:
        found = queries.get_resource(conn, item.commitment.resource_id)
        if found is not None:
            names[found.resource.id] = found.resource.name
    return names


def export_request(view: RequestView, *, sent: datetime, type_name: str = "") -> bytes:
    """Return an EDXL-RM RequestResource message for one request."""
    item = view.request
    root = _message("RequestResource", f"{OURS}request:{item.id}", sent)
    _text(root, RMSG, "OriginatingMessageID", f"{OURS}request:{item.id}")
    _incident(root, item.incident_id)
    _contact(root, item.requested_by, "Requester")
    info = etree.SubElement(root, f"{{{RMSG}}}ResourceInformation")
    _text(info, RMSG, "ResourceInfoElementID", item.id)
    resource = etree.SubElement(info, f"{{{RMSG}}}Resource")
    _type(resource, item.type_code, type_name, tier=item.max_tier)
    for urn, value in (
        (PRIORITY, str(item.priority)),
        (
            MIN_CAPABILITY,
            None if item.min_capability is None else repr(item.min_capability),
        ),
        (TO_DEPARTMENT, item.to_department),
        (TASK, item.task_id),
    ):
        if value is not None:
            _keyword(resource, urn, value)
    if item.note:
        _text(resource, RMSG, "SpecialRequirements", item.note)
    _quantity(info, item.quantity)
    schedule = etree.SubElement(info, f"{{{RMSG}}}ScheduleInformation")
    _text(schedule, RMSG, "ScheduleType", "RequestedArrival")
    if item.needed_by is not None:
        _text(schedule, RMSG, "DateTime", _xml_time(item.needed_by))
    place = etree.SubElement(schedule, f"{{{RMSG}}}Location")
    if item.location_name:
        _text(place, RM, "LocationDescription", item.location_name)
    area = etree.SubElement(place, f"{{{RM}}}TargetArea")
    point = etree.SubElement(area, f"{{{GML}}}Point")
    _text(point, GML, "pos", f"{item.latitude!r} {item.longitude!r}")
    return _bytes(root)


def export_answers(
    view: RequestView,
    *,
    commitments: Sequence[CommitmentView],
    declines: Sequence[Decline],
    sent: datetime,
    resource_names: Mapping[str, str] | None = None,
) -> bytes:
    """Return an EDXL-RM CommitResource message answering a request: an Accept per
    commitment, a Decline per department's refusal (its reason as ResponseReason)."""
    item = view.request
    single = len(commitments) == 1 and not declines
    message_id = (
        f"{OURS}commitment:{commitments[0].commitment.id}"
        if single
        else f"{OURS}answers:{item.id}"
    )
    origin, element = _origin_of(view)
    root = _message("CommitResource", message_id, sent)
    _text(root, RMSG, "OriginatingMessageID", origin)
    _text(root, RMSG, "PrecedingMessageID", origin)
    _incident(root, item.incident_id)
    departments = [c.commitment.department for c in commitments]
    for department in dict.fromkeys([*departments, *(d.department for d in declines)]):
        _contact(root, department, "Sender")
    names = resource_names or {}
    for made in commitments:
        done = made.commitment
        info = _answer(root, done.id, element, "Accept", done.note)
        resource = etree.SubElement(info, f"{{{RMSG}}}Resource")
        _text(resource, RMSG, "ResourceID", done.resource_id)
        if names.get(done.resource_id):
            _text(resource, RMSG, "Name", names[done.resource_id])
        _type(resource, item.type_code, "", tier=None)
        _quantity(info, done.units)
        if done.eta is not None:
            schedule = etree.SubElement(info, f"{{{RMSG}}}ScheduleInformation")
            _text(schedule, RMSG, "ScheduleType", "EstimatedArrival")
            _text(schedule, RMSG, "DateTime", _xml_time(done.eta))
    for refusal in declines:
        element_id = f"{item.id}.declined.{refusal.department}"
        info = _answer(root, element_id, element, "Decline", refusal.reason)
        resource = etree.SubElement(info, f"{{{RMSG}}}Resource")
        _type(resource, item.type_code, "", tier=None)
        _keyword(resource, DEPARTMENT, refusal.department)
    return _bytes(root)


def _origin_of(view: RequestView) -> tuple[str, str]:
    """Return the message and element a request came in (ours if it did not)."""
    if view.external_ref and "#" in view.external_ref:
        message_id, _, element = view.external_ref.rpartition("#")
        return message_id, element
    return f"{OURS}request:{view.request.id}", view.request.id


def _message(kind: str, message_id: str, sent: datetime) -> etree._Element:
    root = etree.Element(
        f"{{{RMSG}}}{kind}", nsmap={"rmsg": RMSG, "rm": RM, "gml": GML}
    )
    _text(root, RMSG, "MessageID", message_id)
    _text(root, RMSG, "SentDateTime", _xml_time(sent.isoformat()))
    _text(root, RMSG, "MessageContentType", kind)
    return root


def _answer(
    root: etree._Element, element_id: str, answered: str, kind: str, reason: str
) -> etree._Element:
    info: etree._Element = etree.SubElement(root, f"{{{RMSG}}}ResourceInformation")
    _text(info, RMSG, "ResourceInfoElementID", element_id)
    answer = etree.SubElement(info, f"{{{RMSG}}}ResponseInformation")
    _text(answer, RM, "PrecedingResourceInfoElementID", answered)
    _text(answer, RM, "ResponseType", kind)
    if reason:
        _text(answer, RM, "ResponseReason", reason)
    return info


def _incident(root: etree._Element, incident_id: str) -> None:
    incident = etree.SubElement(root, f"{{{RMSG}}}IncidentInformation")
    _text(incident, RM, "IncidentID", incident_id)


def _contact(root: etree._Element, department: str, role: str) -> None:
    contact = etree.SubElement(root, f"{{{RMSG}}}ContactInformation")
    _text(contact, RM, "ContactDescription", department)
    _text(contact, RM, "ContactRole", role)


def _type(resource: etree._Element, code: str, name: str, *, tier: str | None) -> None:
    structure = etree.SubElement(resource, f"{{{RMSG}}}TypeStructure")
    _text(structure, RM, "ValueListURN", TYPE_LIST)
    _text(structure, RM, "Value", code)
    if name or tier:
        info = etree.SubElement(resource, f"{{{RMSG}}}TypeInfo")
        if name:
            etree.SubElement(info, "Resource").text = name
        if tier:
            etree.SubElement(info, "MinimumCapabilities").text = f"Type {tier}"


def _keyword(resource: etree._Element, urn: str, value: str) -> None:
    keyword = etree.SubElement(resource, f"{{{RMSG}}}Keyword")
    _text(keyword, RM, "ValueListURN", urn)
    _text(keyword, RM, "Value", value)


def _quantity(info: etree._Element, units: int) -> None:
    assignment = etree.SubElement(info, f"{{{RMSG}}}AssignmentInformation")
    quantity = etree.SubElement(assignment, f"{{{RMSG}}}Quantity")
    _text(quantity, RM, "QuantityText", str(units))


def _text(parent: etree._Element, namespace: str, local: str, text: str) -> None:
    # XML 1.0 cannot carry control characters: they are left out, not refused.
    etree.SubElement(parent, f"{{{namespace}}}{local}").text = _NOT_XML.sub("", text)


def _xml_time(iso: str) -> str:
    """Return an ISO time as an xs:dateTime in UTC (``…Z``)."""
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


__all__ = [
    "DEPARTMENT",
    "GML",
    "MIN_CAPABILITY",
    "OURS",
    "PRIORITY",
    "TASK",
    "TO_DEPARTMENT",
    "TYPE_LIST",
    "EdxlRmRefused",
    "export_answers",
    "export_record",
    "export_request",
    "record_id",
]
