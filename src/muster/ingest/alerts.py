"""Handlers for CAP 1.2 alerts and EDXL envelopes (the alert intake).

A CAP alert is accepted only after the XSD, the CAP rules and any signature pass;
otherwise the document goes to quarantine with its reason. The same alert (same
sender, identifier and sent, or the same bytes) arriving again is recorded as a
duplicate. Updates and Cancels are linked to the alerts they reference. An EDXL-DE
envelope is unwrapped and each CAP payload takes the same path; EDXL-RM messages are
stored for the resources part.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from muster.core.clock import isoformat_utc
from muster.core.uow import UnitOfWork
from muster.ingest import batch_store
from muster.ingest.domain.commands import IngestCap
from muster.ingest.domain.events import (
    CapAlertReceived,
    DistributionReceived,
    DuplicateReceived,
    ResourceMessageReceived,
)
from muster.ingest.domain.model import require_steward
from muster.ingest.files import find_dataset, reject_document
from muster.ingest.formats import FormatRejected
from muster.ingest.formats.cap import CapAlert, parse_cap
from muster.ingest.formats.edxl import parse_edxl_de, parse_edxl_rm


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What happened to one CAP document (the CLI prints one per file)."""

    status: str  # accepted | rejected | duplicate
    identifier: str | None = None
    msg_type: str | None = None
    infos: int = 0
    areas: int = 0
    signature: str | None = None
    error: str | None = None
    alert_key: str | None = None
    quarantine_id: str | None = None
    contents: tuple[AlertOutcome, ...] = ()

    def to_json(self) -> dict[str, object]:
        """Return the outcome as `muster ingest cap --json` prints it."""
        return dataclasses.asdict(self)


def alert_key(sender: str, identifier: str, sent: str) -> str:
    """Return the CAP triple that identifies an alert (and that references use)."""
    return f"{sender},{identifier},{sent}"


def ingest_cap(command: IngestCap, uow: UnitOfWork) -> AlertOutcome:
    """Check and store a CAP 1.2 alert or an EDXL envelope; quarantine what fails."""
    with uow:
        if command.dataset_code is not None:
            dataset = find_dataset(uow, command.dataset_code)
            require_steward(uow.actor, dataset.owner_department, action="submit alerts")
        else:
            require_steward(
                uow.actor, uow.actor.department or "", action="submit alerts"
            )
        match _root_name(command.data):
            case "EDXLDistribution" | "edxlDistribution":
                outcome = _ingest_distribution(uow, command)
            case name if name in RESOURCE_MESSAGES:
                outcome = _ingest_resource_message(uow, command)
            case _:
                outcome = _ingest_alert(uow, command, command.data)
        uow.commit()
        return outcome


RESOURCE_MESSAGES = frozenset(
    {
        "RequestResource",
        "ResponseToRequestResource",
        "RequisitionResource",
        "CommitResource",
        "RequestInformation",
        "ResponseToRequestInformation",
        "OfferUnsolicitedResource",
        "ReleaseResource",
        "RequestReturn",
        "ResponseToRequestReturn",
        "RequestQuote",
        "ResponseToRequestQuote",
        "RequestResourceDeploymentStatus",
        "ReportResourceDeploymentStatus",
        "RequestExtendedDeploymentDuration",
        "ResponseToRequestExtendedDeploymentDuration",
    }
)
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")


def _root_name(data: bytes) -> str:
    """Return the local name of the first element (a cheap sniff; parsers re-check)."""
    head = data[:4096]
    for match in _ROOT.finditer(head):
        name = match.group(1).decode("ascii", errors="replace")
        if head[match.start() + 1 : match.start() + 2] not in (b"?", b"!"):
            return name
    return ""


def _ingest_alert(uow: UnitOfWork, command: IngestCap, data: bytes) -> AlertOutcome:
    digest = hashlib.sha256(data).hexdigest()
    try:
        alert = parse_cap(data)
    except FormatRejected as rejected:
        return _rejected(uow, command, data, rejected, data_format="cap")
    return _store_alert(uow, command, alert, digest, data)


def _rejected(
    uow: UnitOfWork,
    command: IngestCap,
    data: bytes,
    rejected: FormatRejected,
    *,
    data_format: str,
) -> AlertOutcome:
    quarantined = reject_document(
        uow,
        dataset_code=command.dataset_code,
        source=command.source,
        data_format=data_format,
        data=data,
        rejected=rejected,
    )
    return AlertOutcome(
        status="rejected",
        error=quarantined.error,
        quarantine_id=quarantined.quarantine_id,
    )


def _ingest_distribution(uow: UnitOfWork, command: IngestCap) -> AlertOutcome:
    """Unwrap an EDXL-DE envelope; each CAP payload takes the alert path."""
    try:
        envelope = parse_edxl_de(command.data)
    except FormatRejected as rejected:
        return _rejected(uow, command, command.data, rejected, data_format="edxl")
    contents = tuple(
        _ingest_alert(uow, command, payload) for payload in envelope.cap_payloads()
    )
    kept = [item for item in contents if item.status != "rejected"]
    received = DistributionReceived(
        distribution_id=envelope.distribution_id,
        sender_id=envelope.sender_id,
        sent=isoformat_utc(envelope.sent) if envelope.sent else envelope.sent_text,
        status=envelope.status,
        kind=envelope.kind,
        version=envelope.version,
        content_objects=len(envelope.content_objects),
        cap_payloads=len(contents),
        digest=envelope.digest,
        source=command.source,
    )
    stream = f"edxl-de-{envelope.digest[:32]}"
    version = uow.stream_version(stream)
    uow.append(stream, [received], expected_version=version)
    return AlertOutcome(
        status="accepted" if kept or not contents else "rejected",
        identifier=envelope.distribution_id,
        msg_type=f"EDXL-DE {envelope.version}",
        infos=sum(item.infos for item in kept),
        areas=sum(item.areas for item in kept),
        signature=None,
        error="; ".join(str(item.error) for item in contents if item.error) or None,
        contents=contents,
    )


def _ingest_resource_message(uow: UnitOfWork, command: IngestCap) -> AlertOutcome:
    """Store an EDXL-RM message for the resources part (duplicates by digest)."""
    try:
        message = parse_edxl_rm(command.data)
    except FormatRejected as rejected:
        return _rejected(uow, command, command.data, rejected, data_format="edxl-rm")
    summary = AlertOutcome(
        status="accepted",
        identifier=message.message_id,
        msg_type=f"EDXL-RM {message.message_type}",
        infos=len(message.items),
    )
    if batch_store.resource_message_exists(uow.conn, message.digest):
        return dataclasses.replace(summary, status="duplicate")
    batch_store.add_resource_message(
        uow.conn,
        {
            "message_id": message.message_id,
            "message_type": message.message_type,
            "sent": isoformat_utc(message.sent) if message.sent else message.sent_text,
            "digest": message.digest,
            "content": batch_store.to_json(_plain(message)),
            "source": command.source,
            "received_at": isoformat_utc(uow.clock.now()),
        },
    )
    event = ResourceMessageReceived(
        message_id=message.message_id,
        message_type=message.message_type,
        items=len(message.items),
        digest=message.digest,
        source=command.source,
    )
    uow.append(f"edxl-rm-{message.digest[:32]}", [event], expected_version=0)
    return summary


def _plain(value: object) -> object:
    """Turn nested dataclasses into JSON-ready data (times as ISO-8601 UTC)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            item.name: _plain(getattr(value, item.name))
            for item in dataclasses.fields(value)
        }
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return isoformat_utc(value)
    return value


def _store_alert(
    uow: UnitOfWork, command: IngestCap, alert: CapAlert, digest: str, data: bytes
) -> AlertOutcome:
    key = alert_key(alert.sender, alert.identifier, isoformat_utc(alert.sent))
    areas = sum(len(info.areas) for info in alert.infos)
    summary = AlertOutcome(
        status="accepted",
        identifier=alert.identifier,
        msg_type=alert.msg_type,
        infos=len(alert.infos),
        areas=areas,
        signature=alert.signature,
        alert_key=key,
    )
    existing = batch_store.cap_alert_matching(uow.conn, key=key, digest=digest)
    if existing is not None:
        stream = "cap-duplicates"
        duplicate = DuplicateReceived(
            dataset_code=command.dataset_code,
            source=command.source,
            digest=digest,
            original=existing,
        )
        version = uow.stream_version(stream)
        uow.append(stream, [duplicate], expected_version=version)
        return dataclasses.replace(summary, status="duplicate")
    references = tuple(
        alert_key(item.sender, item.identifier, isoformat_utc(item.sent))
        for item in alert.references
    )
    batch_store.add_cap_alert(
        uow.conn,
        row=_alert_row(
            alert, key, command, areas, isoformat_utc(uow.clock.now()), data
        ),
        references=references,
    )
    event = CapAlertReceived(
        alert_key=key,
        identifier=alert.identifier,
        sender=alert.sender,
        sent=isoformat_utc(alert.sent),
        msg_type=alert.msg_type,
        status=alert.status,
        infos=len(alert.infos),
        areas=areas,
        signature=alert.signature,
        digest=digest,
        references=references,
        dataset_code=command.dataset_code,
        source=command.source,
    )
    uow.append(f"cap-{digest[:32]}", [event], expected_version=0)
    return summary


def document_text(data: bytes) -> str:
    """Decode a document as declared (UTF-8 unless its XML declaration says else)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        declared = _DECLARED_ENCODING.search(data[:200])
        encoding = declared.group(1).decode("ascii") if declared else "latin-1"
        try:
            return data.decode(encoding, errors="replace")
        except LookupError:
            return data.decode("latin-1")


_DECLARED_ENCODING = re.compile(rb"encoding=[\"']([A-Za-z0-9._-]+)[\"']")


def _alert_row(
    alert: CapAlert,
    key: str,
    command: IngestCap,
    areas: int,
    received_at: str,
    data: bytes,
) -> dict[str, object]:
    summary = {
        "infos": [
            {
                "language": info.language,
                "event": info.event,
                "categories": list(info.categories),
                "urgency": info.urgency,
                "severity": info.severity,
                "certainty": info.certainty,
                "headline": info.headline,
                "expires": isoformat_utc(info.expires) if info.expires else None,
                "parameters": [list(pair) for pair in info.parameters],
                "event_codes": [list(pair) for pair in info.event_codes],
                "areas": [
                    {
                        "description": area.description,
                        "polygons": len(area.polygons),
                        "circles": len(area.circles),
                        "geocodes": [list(pair) for pair in area.geocodes],
                    }
                    for area in info.areas
                ],
            }
            for info in alert.infos
        ],
        "codes": list(alert.codes),
        "incidents": list(alert.incidents),
    }
    return {
        "alert_key": key,
        "identifier": alert.identifier,
        "sender": alert.sender,
        "sent": isoformat_utc(alert.sent),
        "msg_type": alert.msg_type,
        "status": alert.status,
        "digest": alert.digest,
        "signature": alert.signature,
        "signature_detail": alert.signature_detail,
        "infos": len(alert.infos),
        "areas": areas,
        "summary": batch_store.to_json(summary),
        "raw": document_text(data),
        "dataset_code": command.dataset_code,
        "source": command.source,
        "received_at": received_at,
    }
