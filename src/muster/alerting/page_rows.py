"""What the incident's warnings page shows of each alert: texts, approval chain,
concurrence, delivery per channel and the actions the reader may take.

Pure reads (alerting, response and identity queries, and notify's
``delivery_status``) plus the permission rules of ``domain.permissions``; words come
from the caller's ``translate`` so this module needs no web layer. Imported by
``muster.alerting.pages``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from muster.alerting import current
from muster.alerting.domain.model import COLOUR_NAMES, AlertState, Colour
from muster.alerting.domain.permissions import may_approve, may_author
from muster.alerting.domain.templates import WarningTemplates
from muster.alerting.queries import AlertView, speakers
from muster.core.messages import Actor
from muster.identity import queries as identity
from muster.notify.queries import delivery_status
from muster.response.queries import DecisionView

Translate = Callable[[str], str]
UNPUBLISHED = (AlertState.DRAFT, AlertState.APPROVED)


def colour_name(colour: str, language: str) -> str:
    """Return a warning colour's name in a language."""
    chinese, english = COLOUR_NAMES[Colour(colour)]
    return chinese if language == "zh-CN" else english


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """How one channel carried a published alert: (state label, count) pairs."""

    channel: str
    label: str
    counts: tuple[tuple[str, str, int], ...]
    """(state, its label, how many subscribers)."""


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert as the incident's warnings page shows it."""

    view: AlertView
    colour_label: str
    headlines: tuple[tuple[str, str], ...]
    """(language, headline) per info block."""
    areas: tuple[str, ...]
    author: str
    approver: str | None
    required: tuple[str, ...]
    """Names of the departments whose concurrence the alert needs."""
    decision: DecisionView | None
    waiting_for: str
    """Why an approved alert cannot be published yet ("" if it can)."""
    deliveries: tuple[ChannelRow, ...]
    xml_url: str | None
    can_approve: bool
    can_publish: bool
    can_discard: bool
    can_link: bool


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads the page and what they may do to the incident's warnings."""

    actor: Actor
    may_author: bool
    may_approve: bool


def reader(actor: Actor, speaking: Collection[str]) -> Reader:
    """Return the reader's permissions for an incident's warnings."""
    return Reader(
        actor=actor,
        may_author=may_author(actor, speaking),
        may_approve=may_approve(actor, speaking),
    )


@dataclass(frozen=True, slots=True)
class Words:
    """The page's language, its translator and the label tables it needs."""

    language: str
    translate: Translate
    waiting: Mapping[str, str]
    """"approval", "concurrence", "decision" -> message ids."""
    channels: Mapping[str, str]


def alert_rows(
    conn: Connection,
    views: list[AlertView],
    *,
    decisions: list[DecisionView],
    who: Reader,
    words: Words,
) -> list[AlertRow]:
    """Return the page rows of an incident's alerts."""
    departments = {
        item.code: item.name(words.language) for item in identity.list_departments(conn)
    }
    by_id = {decision.id: decision for decision in decisions}
    people: dict[str, str] = {}

    def person(user_id: str) -> str:
        if user_id not in people:
            found = identity.get_user(conn, user_id)
            people[user_id] = found.display_name if found else user_id
        return people[user_id]

    rows = []
    for view in views:
        record = view.record
        decision = by_id.get(record.decision_id) if record.decision_id else None
        waiting = _waiting_for(view, decision, words)
        unpublished = record.state in UNPUBLISHED
        rows.append(
            AlertRow(
                view=view,
                colour_label=colour_name(record.colour.value, words.language),
                headlines=tuple(
                    (info.language, info.headline) for info in record.content.infos
                ),
                areas=tuple(area.description for area in record.content.areas),
                author=person(record.author),
                approver=None if record.approver is None else person(record.approver),
                required=tuple(
                    departments.get(code, code) for code in record.required_departments
                ),
                decision=decision,
                waiting_for=waiting,
                deliveries=_deliveries(conn, view, words),
                xml_url=None
                if view.xml is None
                else current.xml_path(record.content.identifier),
                can_approve=record.state is AlertState.DRAFT
                and who.may_approve
                and who.actor.id != record.author,
                can_publish=record.state is AlertState.APPROVED
                and not waiting
                and (who.may_author or who.may_approve),
                can_discard=unpublished and who.may_author,
                can_link=unpublished
                and who.may_author
                and bool(record.required_departments)
                and (decision is None or decision.outcome != "approved"),
            )
        )
    return rows


def _waiting_for(view: AlertView, decision: DecisionView | None, words: Words) -> str:
    """Return why an unpublished alert cannot go out yet, or ""."""
    record = view.record
    if record.state not in UNPUBLISHED:
        return ""
    if record.state is AlertState.DRAFT:
        return words.translate(words.waiting["approval"])
    if record.required_departments and decision is None:
        return words.translate(words.waiting["concurrence"])
    if decision is not None and decision.outcome != "approved":
        return words.translate(words.waiting["decision"])
    return ""


def _deliveries(
    conn: Connection, view: AlertView, words: Words
) -> tuple[ChannelRow, ...]:
    """Return a published alert's deliveries counted per channel and state."""
    if view.record.state is not AlertState.PUBLISHED:
        return ()
    counts: dict[str, Counter[str]] = {}
    labels: dict[str, str] = {}
    for item in delivery_status(conn, view.record.id):
        counts.setdefault(item.channel, Counter())[item.state] += 1
        labels[item.state] = item.label(words.language)
    return tuple(
        ChannelRow(
            channel=channel,
            label=words.translate(words.channels[channel])
            if channel in words.channels
            else channel,
            counts=tuple(
                (state, labels[state], count)
                for state, count in sorted(counter.items())
            ),
        )
        for channel, counter in sorted(counts.items())
    )


def template_choices(
    templates: WarningTemplates | None,
    *,
    language: str,
    departments: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Return the compose form's hazards, each with its colours (value
    "hazard:colour") and the departments whose concurrence a colour needs."""
    if templates is None:
        return []
    choices = []
    for code, hazard in templates.hazards.items():
        colours = []
        for colour in Colour:
            template = hazard.colours.get(colour)
            if template is None:
                continue
            needed = templates.required_departments(template.response_types)
            colours.append(
                {
                    "value": f"{code}:{colour.value}",
                    "colour": colour.value,
                    "label": colour_name(colour.value, language),
                    "concurrence": [departments.get(d, d) for d in needed],
                }
            )
        choices.append(
            {
                "code": code,
                "name": hazard.event.get(language) or code,
                "colours": colours,
            }
        )
    return choices


def district_choices(
    templates: WarningTemplates | None, *, language: str
) -> list[tuple[str, str]]:
    """Return the districts an alert may name: (code, name in the language)."""
    if templates is None:
        return []
    return [
        (code, names.get(language) or code)
        for code, names in templates.districts.items()
    ]


__all__ = [
    "AlertRow",
    "ChannelRow",
    "Reader",
    "Words",
    "alert_rows",
    "colour_name",
    "district_choices",
    "reader",
    "speakers",
    "template_choices",
]
