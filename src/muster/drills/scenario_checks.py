"""The rules of a scenario file that its JSON Schema cannot express, at their lines.

On their own (``structure_problems``): unique inject and expected ids, ``after``
naming an inject, times within the duration, each action's ``match`` keys, what a
scripted action needs to be played, and CAP injects that parse and whose
``<status>`` is ``Exercise``. Against a pack (``pack_problems``, in
``muster.drills.scenario_pack_checks``): departments, users, datasets and their
fields, plans, levels, tasks, reports and decision points. Used by
``muster.drills.scenarios``.
"""

from __future__ import annotations

from typing import Any

from muster.core.errors import PackProblem, ValidationFailed
from muster.drills.domain.scenario import MATCH_KEYS
from muster.ingest.formats.cap import parse_cap
from muster.pack.documents import Document

# Scripted actions the runner cannot play without these match keys.
_SCRIPTED_NEEDS = {
    "activate_plan": ("plan", "level"),
    "propose_decision": ("decision",),
}


def structure_problems(document: Document) -> list[PackProblem]:
    """Check ids, references, times, match keys and CAP injects of a scenario."""
    data = document.data
    problems: list[PackProblem] = []
    injects: list[dict[str, Any]] = data["injects"]
    expected: list[dict[str, Any]] = data["expected"]
    problems += _duplicates(document, "injects", injects)
    problems += _duplicates(document, "expected", expected)
    problems += _times(document, injects=injects, expected=expected)
    for index, item in enumerate(data.get("participants", [])):
        path: list[str | int] = ["participants", index]
        problems += _match_problems(document, path, item)
        problems += _scripted_problems(document, path, item)
    for index, item in enumerate(expected):
        problems += _match_problems(document, ["expected", index], item)
    for index, item in enumerate(injects):
        if item["kind"] == "cap":
            problems += _cap_problems(document, index, item["xml"])
    return problems


def _scripted_problems(
    document: Document, path: list[str | int], item: dict[str, Any]
) -> list[PackProblem]:
    """What the runner needs to play a scripted action: keys and recorded values."""
    match: dict[str, Any] = item.get("match", {})
    needed = _SCRIPTED_NEEDS.get(item["action"], ())
    missing = [key for key in needed if key not in match]
    if missing:
        return [
            document.problem(
                [*path, "match"],
                f"a scripted {item['action']} needs match."
                + " and match.".join(missing),
            )
        ]
    return [
        document.problem(
            [*path, "match", "facts", name],
            "a scripted record_facts records a value: give a number or a text",
        )
        for name, value in match.get("facts", {}).items()
        if value is None
    ]


def _duplicates(
    document: Document, key: str, items: list[dict[str, Any]]
) -> list[PackProblem]:
    first: dict[str, int] = {}
    problems: list[PackProblem] = []
    for index, item in enumerate(items):
        ident = str(item["id"])
        if ident in first:
            line = document.line([key, first[ident], "id"])
            problems.append(
                document.problem(
                    [key, index, "id"],
                    f"id {ident} is used twice (first on line {line})",
                )
            )
        else:
            first[ident] = index
    return problems


def _times(
    document: Document,
    *,
    injects: list[dict[str, Any]],
    expected: list[dict[str, Any]],
) -> list[PackProblem]:
    """Every inject, scripted action and deadline falls within the duration."""
    duration = float(document.data["duration_minutes"])
    problems: list[PackProblem] = []
    played = {str(item["id"]): float(item["at"]) for item in injects}
    for key in ("injects", "participants"):
        for index, item in enumerate(document.data.get(key, [])):
            if float(item["at"]) > duration:
                problems.append(
                    document.problem(
                        [key, index, "at"],
                        f"minute {item['at']:g} is after the end of the scenario "
                        f"(duration_minutes: {duration:g})",
                    )
                )
    for index, item in enumerate(expected):
        after = item.get("after")
        start = 0.0
        if after is not None:
            if str(after) not in played:
                known = ", ".join(played) or "none"
                problems.append(
                    document.problem(
                        ["expected", index, "after"],
                        f"names no inject of this scenario: {after} (injects: {known})",
                    )
                )
                continue
            start = played[str(after)]
        deadline = start + float(item["within"])
        if deadline > duration:
            problems.append(
                document.problem(
                    ["expected", index, "within"],
                    f"the deadline (minute {deadline:g}) is after the end of the "
                    f"scenario (duration_minutes: {duration:g})",
                )
            )
    return problems


def _match_problems(
    document: Document, path: list[str | int], item: dict[str, Any]
) -> list[PackProblem]:
    """The match keys of an action are the ones it understands, required ones set."""
    action = str(item["action"])
    required, optional = MATCH_KEYS[action]
    match: dict[str, Any] = item.get("match", {})
    problems: list[PackProblem] = []
    allowed = (*required, *optional)
    for key in match:
        if key not in allowed:
            hint = ", ".join(allowed) or "no match keys"
            problems.append(
                document.problem(
                    [*path, "match", key],
                    f"{action} does not use {key} (it takes: {hint})",
                )
            )
    for key in required:
        if key not in match:
            problems.append(
                document.problem([*path, "match"], f"{action} needs match.{key}")
            )
    return problems


def _cap_problems(document: Document, index: int, xml: str) -> list[PackProblem]:
    """The alert parses as CAP 1.2 and is an exercise: a drill never sends real ones."""
    path: list[str | int] = ["injects", index, "xml"]
    try:
        alert = parse_cap(xml.encode("utf-8"), verify_signatures=False)
    except ValidationFailed as refused:
        xml_line = refused.params.get("line")
        where = ""
        line = document.line(path)
        if isinstance(xml_line, int) and line is not None:
            line += xml_line  # a block scalar's text starts on the next line
            where = f" (line {xml_line} of the XML)"
        message = f"injects[{index}].xml: not a usable CAP 1.2 alert{where}: "
        return [PackProblem(document.name, line, message + refused.message)]
    if alert.status != "Exercise":
        return [
            document.problem(
                path,
                f"the CAP alert's <status> is {alert.status or '(empty)'}: a drill "
                "never sends a real alert, so a scenario's CAP injects must have "
                "<status>Exercise</status>",
            )
        ]
    return []


__all__ = ["structure_problems"]
