"""Human, translated one-line summaries of log events for the live feed.

Imported by ``web.feed`` only. Each item is summarised once, in every language, when the
hub reads it; streams then pick the viewer's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from muster.bootstrap import Muster
from muster.catalog import queries as catalog_queries
from muster.core.eventlog.store import Envelope, Recorded
from muster.core.messages import SYSTEM_ACTOR
from muster.identity import queries
from muster.ingest.labels import MEASURE_LABELS, MSG_TYPE_LABELS, STATUS_LABELS
from muster.response import queries as response_queries
from muster.response.pages import (
    CATEGORY_LABELS,
    DECISION_LABELS,
    LEVEL_LABELS,
    ROLE_LABELS,
)
from muster.response.pages import STATUS_LABELS as INCIDENT_STATUS_LABELS
from muster.web import i18n
from muster.web.i18n import N_
from muster.web.notify_summaries import NOTIFY_PREFIX, notify_params, notify_template
from muster.web.part_summaries import PART_TEMPLATES, PREFIXES, part_params
from muster.web.summary_templates import TEMPLATES, WITHOUT_DATASET

STILL_FAILS = N_("%(actor)s resubmitted a record of %(dataset)s; it still fails")
MAX_REASON_CHARS = 120
OPENED = "response.IncidentOpened"
SYSTEM_ID = SYSTEM_ACTOR.id
FALLBACK = N_("Event %(type)s was recorded")
SIGN_IN_REASONS: dict[str, str] = {
    "wrong_password": N_("wrong password"),
    "unknown_user": N_("unknown user"),
    "rate_limited": N_("too many attempts"),
}
SYSTEM_NAME = N_("Muster")
API_KEY_NAME = N_("API key %(key)s")


@dataclass(frozen=True, slots=True)
class Translatable:
    """A parameter whose text depends on the viewer's language."""

    by_language: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One event as the feed shows it, summarised in every language."""

    envelope: Envelope
    summaries: Mapping[str, str]
    incident: Mapping[str, Any] | None = None

    def payload(self, language: str) -> dict[str, Any]:
        """Return the JSON the stream sends for this item in a language."""
        incident = None
        if self.incident is not None:
            incident = {
                key: (value[language] if isinstance(value, Mapping) else value)
                for key, value in self.incident.items()
            }
        return {
            "seq": self.envelope.seq,
            "type": self.envelope.type,
            "recorded_at": self.envelope.recorded_at,
            "summary": self.summaries[language],
            "incident": incident,
            "incident_id": self.envelope.data.get("incident_id"),
            "departments": _departments_of(self.envelope.data),
        }


class Summarizer:
    """Turns recorded events into feed items, caching names it looks up."""

    def __init__(self, muster: Muster) -> None:
        self.muster = muster
        self._departments: dict[str, queries.DepartmentView | None] = {}
        self._datasets: dict[str, catalog_queries.DatasetView | None] = {}
        self._users: dict[str, str] = {}
        self._titles: dict[str, str] = {}
        self._tasks: dict[str, Translatable | None] = {}

    def item(self, conn: Connection, record: Recorded) -> FeedItem:
        """Summarise one recorded event."""
        return self.envelope_item(conn, record.envelope)

    def envelope_item(self, conn: Connection, envelope: Envelope) -> FeedItem:
        """Summarise one event from its envelope."""
        if envelope.type.startswith("identity.Department"):
            self._departments.pop(str(envelope.data.get("code")), None)
        if envelope.type.startswith("catalog.Dataset"):
            self._datasets.pop(str(envelope.data.get("code")), None)
        params = self._params(conn, envelope)
        if envelope.type.startswith(("catalog.", "ingest.")):
            params.update(self._data_params(conn, envelope, actor=params["actor"]))
        if envelope.type.startswith("response.") and envelope.type != OPENED:
            params.update(self._response_params(conn, envelope))
        if envelope.type.startswith(PREFIXES):
            params.update(
                part_params(
                    envelope.data,
                    department=lambda code: self._department(conn, code),
                    incident=lambda key: self._incident_title(conn, key),
                    label=_label,
                )
            )
        if envelope.type.startswith(NOTIFY_PREFIX):
            params.update(
                notify_params(
                    envelope,
                    department=lambda code: self._department(conn, code),
                    translatable=_translatable,
                    bilingual=_bilingual,
                )
            )
        template = _template(envelope)
        summaries = {
            language: i18n.translate(language, template, **_localise(params, language))
            for language in i18n.LANGUAGES
        }
        return FeedItem(
            envelope=envelope,
            summaries=summaries,
            incident=self._incident(conn, envelope),
        )

    def timeline(
        self, conn: Connection, entries: list[response_queries.TimelineEntry]
    ) -> list[Mapping[str, str]]:
        """Summarise an incident's timeline entries in every language."""
        result = []
        for entry in entries:
            envelope = Envelope(
                seq=entry.seq, event_id="", type=entry.type, version=1,
                stream_id="", stream_version=0, occurred_at=entry.at,
                recorded_at=entry.at,
                actor_kind="system" if entry.actor_id == SYSTEM_ID else "user",
                actor_id=entry.actor_id, actor_department=entry.department,
                data=entry.data, metadata={},
            )  # fmt: skip
            result.append(self.envelope_item(conn, envelope).summaries)
        return result

    def _params(self, conn: Connection, envelope: Envelope) -> dict[str, object]:
        data = envelope.data
        params: dict[str, object] = {
            "type": envelope.type,
            "actor": self._actor(conn, envelope),
        }
        if (
            "department_code" in data
            or "reporting_department" in data
            or "code" in data
        ):
            code = data.get("reporting_department") or data.get("department_code")
            params["department"] = self._department(conn, str(code or data.get("code")))
        if "user_id" in data:
            params["name"] = data.get("display_name") or self._user(
                conn, data["user_id"]
            )
        reason = str(data.get("reason", ""))
        params.update(
            title=data.get("title", ""),
            username=data.get("username", ""),
            key=data.get("key_id", ""),
            action=data.get("action", ""),
            reason=_translatable(SIGN_IN_REASONS[reason])
            if reason in SIGN_IN_REASONS
            else reason,
        )
        return params

    def _data_params(
        self, conn: Connection, envelope: Envelope, *, actor: object
    ) -> dict[str, object]:
        """Return the parameters of catalog and ingest summaries."""
        data = envelope.data
        code = data.get("dataset_code") or data.get("code")
        department = envelope.actor_department
        params: dict[str, object] = {
            "dataset": self._dataset(conn, str(code)) if code else "",
            "submitter": self._department(conn, department) if department else actor,
            "count": data.get("count", data.get("cap_payloads", data.get("items", 0))),
            "sender": data.get("sender") or data.get("sender_id", ""),
            "reason": _shortened(str(data.get("message") or data.get("reason", ""))),
            "msg_type": _label(MSG_TYPE_LABELS, data.get("msg_type")),
            "measure": _label(MEASURE_LABELS, data.get("measure")),
            "status": _label(STATUS_LABELS, data.get("status")),
        }
        if "owner_department" in data:
            params["department"] = self._department(conn, data["owner_department"])
        for name in ("accepted", "quarantined", "identifier", "format", "version"):
            params[name] = data.get(name, "")
        params["message_type"] = data.get("message_type", "")
        return params

    def _response_params(
        self, conn: Connection, envelope: Envelope
    ) -> dict[str, object]:
        """Return the parameters of response summaries (names in both languages)."""
        data = envelope.data
        department = (
            data.get("department")
            or data.get("to_department")
            or data.get("lead_department")
            or envelope.actor_department
            or ""
        )
        params: dict[str, object] = {
            "department": self._department(conn, str(department)),
            "from_department": self._department(
                conn, str(data.get("from_department", ""))
            ),
            "notify_department": self._department(
                conn, str(data.get("notify_department", ""))
            ),
            "role": _label(ROLE_LABELS, data.get("notify_role")),
            "status": _label(INCIDENT_STATUS_LABELS, data.get("to_status")),
            "level": _label(LEVEL_LABELS, data.get("level") or data.get("to_level")),
            "from_level": _label(LEVEL_LABELS, data.get("from_level")),
            "position": _label(DECISION_LABELS, data.get("position")),
            "outcome": _label(DECISION_LABELS, data.get("outcome")),
            "reason": _shortened(str(data.get("reason", ""))),
            "version": data.get("version", ""),
            "due": str(data.get("due_at", ""))[11:16],
            "incident": self._incident_title(conn, data.get("incident_id")),
            "task": self._task_title(conn, data),
            "decision": data.get("title") or self._decision_title(conn, data),
            "plan": self._plan_name(conn, data.get("plan_code")),
            "report": Translatable(
                {
                    language: str(
                        data.get("name_zh" if language.startswith("zh") else "name_en")
                        or data.get("obligation")
                        or ""
                    )
                    for language in i18n.LANGUAGES
                }
            ),
        }
        return params

    def _incident_title(self, conn: Connection, incident_id: object) -> str:
        key = str(incident_id or "")
        if key not in self._titles:
            view = response_queries.get_incident(conn, key) if key else None
            self._titles[key] = view.title if view else key
        return self._titles[key]

    def _task_title(self, conn: Connection, data: Mapping[str, Any]) -> object:
        if "title_zh" in data:
            return _bilingual(str(data["title_zh"]), str(data.get("title_en", "")))
        task_id = str(data.get("task_id", ""))
        if not task_id:
            return ""
        if task_id not in self._tasks:
            view = response_queries.get_task(conn, task_id)
            self._tasks[task_id] = (
                _bilingual(view.title_zh, view.title_en) if view else None
            )
        return self._tasks[task_id] or task_id

    def _decision_title(self, conn: Connection, data: Mapping[str, Any]) -> str:
        decision_id = str(data.get("decision_id", ""))
        incident_id = str(data.get("incident_id", ""))
        for view in response_queries.incident_decisions(conn, incident_id):
            if view.id == decision_id:
                return view.title
        return decision_id

    def _plan_name(self, conn: Connection, code: object) -> object:
        if not code:
            return ""
        for plan in response_queries.list_plans(conn):
            if plan.code == code:
                return _bilingual(plan.name_zh, plan.name_en)
        return str(code)

    def _dataset(self, conn: Connection, code: str) -> Translatable:
        if code not in self._datasets:
            self._datasets[code] = catalog_queries.get_dataset(conn, code)
        view = self._datasets[code]
        return Translatable(
            {
                language: view.name(language) if view else code
                for language in i18n.LANGUAGES
            }
        )

    def _incident(
        self, conn: Connection, envelope: Envelope
    ) -> Mapping[str, Any] | None:
        if envelope.type != "response.IncidentOpened":
            return None
        data = envelope.data
        label = CATEGORY_LABELS.get(data["category"], data["category"])
        department = self._department(conn, data["reporting_department"])
        return {
            "id": data["incident_id"],
            "title": data["title"],
            "category": data["category"],
            "category_label": _translatable(label).by_language,
            "department": department.by_language,
            "opened_at": envelope.recorded_at,
        }

    def _department(self, conn: Connection, code: str) -> Translatable:
        if code not in self._departments:
            self._departments[code] = queries.get_department(conn, code)
        view = self._departments[code]
        return Translatable(
            {
                language: view.name(language) if view else code
                for language in i18n.LANGUAGES
            }
        )

    def _user(self, conn: Connection, user_id: str) -> str:
        if user_id not in self._users:
            view = queries.get_user(conn, user_id)
            self._users[user_id] = view.display_name if view else user_id
        return self._users[user_id]

    def _actor(self, conn: Connection, envelope: Envelope) -> object:
        if envelope.actor_kind == "user":
            return self._user(conn, envelope.actor_id)
        if envelope.actor_kind == "system":
            return _translatable(SYSTEM_NAME)
        return Translatable(
            {
                language: i18n.translate(language, API_KEY_NAME, key=envelope.actor_id)
                for language in i18n.LANGUAGES
            }
        )


def _template(envelope: Envelope) -> str:
    """Pick the summary's message id (some events read differently by outcome)."""
    data = envelope.data
    if envelope.type.startswith(NOTIFY_PREFIX):
        return notify_template(envelope) or FALLBACK
    if envelope.type == "ingest.RecordResubmitted" and not data.get("is_accepted"):
        return STILL_FAILS
    if envelope.type in WITHOUT_DATASET and not data.get("dataset_code"):
        return WITHOUT_DATASET[envelope.type]
    return TEMPLATES.get(envelope.type) or PART_TEMPLATES.get(envelope.type, FALLBACK)


def _bilingual(zh: str, en: str) -> Translatable:
    return Translatable(
        {
            language: zh if language.startswith("zh") else en
            for language in i18n.LANGUAGES
        }
    )


def _departments_of(data: Mapping[str, Any]) -> list[str]:
    """Return the department codes an event concerns (for live page filters)."""
    found: list[str] = []
    for name in ("department", "lead_department", "to_department", "from_department"):
        value = data.get(name)
        if isinstance(value, str) and value and value not in found:
            found.append(value)
    for name in ("departments", "supporting_departments"):
        for value in data.get(name) or ():
            if isinstance(value, str) and value not in found:
                found.append(value)
    return found


def _shortened(text: str) -> str:
    """Cut a long reason for a one-line summary."""
    if len(text) <= MAX_REASON_CHARS:
        return text
    return text[: MAX_REASON_CHARS - 1].rstrip() + "…"


def _label(labels: Mapping[str, str], code: object) -> object:
    """Translate a known code (a status, a measure); show an unknown one as it is."""
    text = str(code or "")
    return _translatable(labels[text]) if text in labels else text


def _translatable(message: str) -> Translatable:
    return Translatable(
        {language: i18n.translate(language, message) for language in i18n.LANGUAGES}
    )


def _localise(params: Mapping[str, object], language: str) -> dict[str, object]:
    return {
        key: value.by_language[language] if isinstance(value, Translatable) else value
        for key, value in params.items()
    }


__all__ = ["TEMPLATES", "FeedItem", "Summarizer"]
