"""Exercise scenarios (HSEEP MSEL + exercise evaluation guide), pure (stdlib only).

A scenario is what a drill plays: injects at scenario minutes (offsets from the
drill's start on its simulated clock), the actions scripted participants take in an
unattended run, and the actions expected of each department by when (the evaluation
guide). Loaded from the pack's ``scenarios/*.yaml`` by ``muster.drills.scenarios``;
played by ``muster.drills.runner``; evaluated by ``muster.drills.domain.evaluation``.

Vocabulary shared by scripted and expected actions (``ACTIONS``), with the ``match``
keys each understands:

- ``open_incident``    {category?, type_code?}   an incident opened (by a trigger too)
- ``verify_incident``  {}                         the drill incident verified
- ``activate_plan``    {plan?, level?}            a plan activated (at a level)
- ``change_level``     {level}                    the response level changed to level
- ``acknowledge_task`` {task}                     the task (plan template key) acked
- ``start_task``       {task}
- ``complete_task``    {task}
- ``send_report``      {obligation?}              a situation report sent
- ``propose_decision`` {raises_to?, decision?}    ``decision``: the plan's decision
                                                  point key (``ProposeDecision.
                                                  decision_key``), e.g. raise_to_l2
- ``sign_decision``    {position?, decision?}     the department signed the decision
- ``record_facts``     {facts}                    incident facts recorded

Inject kinds (``INJECT_KINDS``) and their payload keys:

- ``observations``  {dataset, rows: [...]}   rows without ``observed_at`` get the
                                             drill's current time
- ``records``       {dataset, rows: [...]}   e.g. hotline tickets of a report stream;
                                             rows without the stream's ``time_field``
                                             (triggers.yaml, e.g. ``received_at``) get
                                             the drill's current time
- ``cap``           {xml, dataset?}          a CAP 1.2 alert; its status must be
                                             ``Exercise`` (the loader refuses others);
                                             ``dataset``: a ``cap`` dataset to file it
                                             under (default: the pack's first one)
- ``field_report``  {category, latitude, longitude, text}
- ``message``       {to: [departments], subject_zh, subject_en, body_zh, body_en}
- ``fact``          {facts: {...}}           facts on the drill incident
- ``incident``      {title, category, type_code?, latitude, longitude, description?}
                                             (``description``: the inject's own)

``MATCH_KEYS`` and ``PAYLOAD_KEYS`` state the same tables as data (required keys
first, then optional ones), for the loader and the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ACTIONS = (
    "open_incident",
    "verify_incident",
    "activate_plan",
    "change_level",
    "acknowledge_task",
    "start_task",
    "complete_task",
    "send_report",
    "propose_decision",
    "sign_decision",
    "record_facts",
)

INJECT_KINDS = (
    "observations",
    "records",
    "cap",
    "field_report",
    "message",
    "fact",
    "incident",
)

MATCH_KEYS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "open_incident": ((), ("category", "type_code")),
    "verify_incident": ((), ()),
    "activate_plan": ((), ("plan", "level")),
    "change_level": (("level",), ()),
    "acknowledge_task": (("task",), ()),
    "start_task": (("task",), ()),
    "complete_task": (("task",), ()),
    "send_report": ((), ("obligation",)),
    "propose_decision": ((), ("raises_to", "decision")),
    "sign_decision": ((), ("position", "decision")),
    "record_facts": (("facts",), ()),
}
"""Each action's (required, optional) ``match`` keys."""

PAYLOAD_KEYS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "observations": (("dataset", "rows"), ()),
    "records": (("dataset", "rows"), ()),
    "cap": (("xml",), ("dataset",)),
    "field_report": (("category", "latitude", "longitude", "text"), ()),
    "message": (("to", "subject_zh", "subject_en", "body_zh", "body_en"), ()),
    "fact": (("facts",), ()),
    "incident": (
        ("title", "category", "latitude", "longitude"),
        ("type_code", "description"),
    ),
}
"""Each inject kind's (required, optional) payload keys."""


@dataclass(frozen=True, slots=True)
class Inject:
    """One MSEL line: something that happens to the players at a scenario minute."""

    id: str
    at_minutes: float
    kind: str
    payload: Mapping[str, object]
    department: str | None = None  # who it comes from (the source), if anyone
    description: str = ""


@dataclass(frozen=True, slots=True)
class ScriptedAction:
    """What an unattended participant does at a scenario minute."""

    at_minutes: float
    department: str
    action: str
    match: Mapping[str, object] = field(default_factory=dict)
    user: str | None = None  # username; default: the department's duty officer


@dataclass(frozen=True, slots=True)
class ExpectedAction:
    """An evaluation-guide line: what a department should do, and by when."""

    id: str
    department: str
    action: str
    within_minutes: float  # from the drill's start, or from the ``after`` inject
    match: Mapping[str, object] = field(default_factory=dict)
    after: str | None = None  # inject id the deadline counts from
    capability: str = ""  # e.g. "Operational Coordination", "公众预警"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole exercise: identity, length, MSEL, scripted participants, EEG."""

    code: str
    title_zh: str
    title_en: str
    duration_minutes: float
    injects: tuple[Inject, ...]
    expected: tuple[ExpectedAction, ...]
    participants: tuple[ScriptedAction, ...] = ()
    description: str = ""
    objectives: tuple[str, ...] = ()


__all__ = [
    "ACTIONS",
    "INJECT_KINDS",
    "MATCH_KEYS",
    "PAYLOAD_KEYS",
    "ExpectedAction",
    "Inject",
    "Scenario",
    "ScriptedAction",
]
