"""Sharing pages that file something by form: a consumer's access request, a
provider's agreement and a commander's break-glass access.

Each form is a GET (choose the dataset, which shows its fields) and a POST that sends
one command through the bus, which decides who may do what; a refusal shows the form
again with the message beside the input it names. Imported by ``sharing.pages``, which
mounts ``router`` and shares the helpers at the bottom.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict

from muster.catalog import queries as catalog
from muster.core.errors import MusterError, NotFound
from muster.core.messages import Actor, Command
from muster.identity import queries as identity
from muster.response import queries as response
from muster.sharing.domain.agreements import LEGAL_BASES, LEVELS_LOW_TO_HIGH
from muster.sharing.domain.commands import (
    OpenBreakGlass,
    RegisterAgreement,
    RequestAccess,
)
from muster.sharing.handlers import MIN_JUSTIFICATION
from muster.web.errors import message_for, status_for
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

FormValues = ImmutableMultiDict[str, str]
Renderer = Callable[[Page, FormValues, Mapping[str, str] | None, int], Response]
SEPARATORS = re.compile(r"[\s,，、;；]+")
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
MASKS: dict[str, str] = {
    "none": N_("Shown as is"),
    "partial": N_("Partly starred"),
    "name": N_("Name: first character only"),
    "phone": N_("Phone: first 3 and last 4 digits"),
    "id_number": N_("ID number: first 3 and last 4 characters"),
    "grid": N_("Location rounded to a 0.01° grid"),
    "grid:0.05": N_("Location rounded to a 0.05° grid"),
    "hide": N_("Hidden"),
}
LEGAL_BASIS_LABELS: dict[str, str] = {
    "CONSENT": N_("Consent of the person (PIPL Art. 13(1))"),
    "CONTRACT_HR": N_("Contract or human-resources management (Art. 13(2))"),
    "STATUTORY_DUTY": N_("Statutory duty or obligation (Art. 13(3))"),
    "EMERGENCY": N_("Emergency: protecting life, health or property (Art. 13(4))"),
    "NEWS_PUBLIC_INTEREST": N_("News reporting in the public interest (Art. 13(5))"),
    "PUBLICLY_DISCLOSED": N_("Information already made public (Art. 13(6))"),
}
LEVEL_LABELS: dict[str, str] = {
    "L1": N_("Level I"),
    "L2": N_("Level II"),
    "L3": N_("Level III"),
    "L4": N_("Level IV"),
}
REFUSALS: dict[str, str] = {
    "agreement_invalid": N_("This breaks a rule of data sharing."),
    "break_glass_invalid": N_("Break-glass access was refused."),
    "request_already_decided": N_("This request was decided already."),
    "permission": N_("You may not do this for this dataset."),
}
# Which form input a refusal's "field" belongs beside (others: the top of the form).
FORM_FIELDS = {"conditions": "min_level"}
REQUEST_INPUTS = frozenset({"dataset", "fields", "purposes", "justification"})
AGREEMENT_INPUTS = frozenset(
    {"code", "consumers", "fields", "masks", "purposes", "tlp", "legal_basis", "mode",
     "aggregate_by", "min_level", "within_km", "valid_from", "valid_until"}
)  # fmt: skip
BREAK_GLASS_INPUTS = frozenset({"dataset", "minutes", "justification"})


@router.get("/sharing/requests/new")
def new_request_form(page: SignedInPage, dataset: str = "") -> Response:
    """Show the consumer's request form (fields once a dataset is chosen)."""
    return _render_request(page, _values(dataset=dataset, fields=None))


@router.post("/sharing/requests/new")
async def file_request(page: SignedInPage) -> Response:
    """Send the access request the form describes, or show the form again."""
    posted = await _posted(page)
    command = RequestAccess(
        dataset=posted.get("dataset", ""),
        fields=tuple(posted.getlist("fields")),
        purposes=words(posted.get("purposes", ""), lower=True),
        justification=posted.get("justification", ""),
    )
    return await run_in_threadpool(
        _submit, page, command, posted, _render_request, "requested"
    )


@router.get("/sharing/agreements/new")
def new_agreement_form(page: SignedInPage, dataset: str = "") -> Response:
    """Show the provider's agreement form (fields once a dataset is chosen)."""
    facts = _dataset(page, dataset) if dataset else None
    names = [item.name for item in facts.fields] if facts else []
    values = _values(dataset=dataset, fields=names, mode="records")
    return _render_agreement(page, values)


@router.post("/sharing/agreements/new")
async def register_agreement(page: SignedInPage) -> Response:
    """Register the agreement the form describes, or show the form again."""
    posted = await _posted(page)
    data, problems = agreement_data(posted)
    if problems:
        messages = {key: page.translate(text) for key, text in problems.items()}
        return await run_in_threadpool(
            lambda: _render_agreement(page, posted, messages, 422)
        )
    command = RegisterAgreement(agreement=data, source="ui")
    return await run_in_threadpool(
        _submit, page, command, posted, _render_agreement, "agreement_{outcome}"
    )


@router.get("/sharing/break-glass")
def break_glass_form(page: SignedInPage) -> Response:
    """Show the commander's break-glass form."""
    return _render_break_glass(page, _values(minutes="60"))


@router.post("/sharing/break-glass")
async def open_break_glass(page: SignedInPage) -> Response:
    """Open break-glass access, or show the form again with the refusal."""
    posted = await _posted(page)
    minutes = posted.get("minutes", "").strip()
    if not minutes.isdigit():
        message = page.translate(N_("Enter a whole number of minutes."))
        return await run_in_threadpool(
            lambda: _render_break_glass(page, posted, {"minutes": message}, 422)
        )
    command = OpenBreakGlass(
        dataset=posted.get("dataset", ""),
        justification=posted.get("justification", ""),
        minutes=int(minutes),
        incident_id=posted.get("incident_id") or None,
    )
    return await run_in_threadpool(
        _submit, page, command, posted, _render_break_glass, "break_glass"
    )


def agreement_data(posted: FormValues) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the agreement data a posted form describes, and the inputs it cannot
    read (message ids by input name); the domain checks everything else."""
    problems: dict[str, str] = {}
    fields = posted.getlist("fields")
    masks = {
        name: posted.get(f"mask-{name}", "")
        for name in fields
        if posted.get(f"mask-{name}")
    }
    consumers = posted.getlist("consumers")
    data: dict[str, Any] = {
        "code": posted.get("code", "").strip().upper(),
        "dataset": posted.get("dataset", ""),
        "consumers": ["*"] if "*" in consumers else consumers,
        "fields": fields,
        "purposes": list(words(posted.get("purposes", ""), lower=True)),
        "mode": posted.get("mode") or "records",
        "masks": masks,
        "legal_basis": posted.get("legal_basis") or None,
        "legal_text": posted.get("legal_text", "").strip(),
        "valid_from": posted.get("valid_from", "").strip() or None,
        "valid_until": posted.get("valid_until", "").strip() or None,
        "name_zh": posted.get("name_zh", "").strip(),
        "name_en": posted.get("name_en", "").strip(),
    }
    if data["mode"] == "aggregate":
        data["aggregate_by"] = posted.get("aggregate_by") or None
    if posted.get("tlp"):
        data["tlp"] = posted.get("tlp")
    categories = list(words(posted.get("categories", "")))
    level = posted.get("min_level", "")
    within = posted.get("within_km", "").strip()
    if categories or level or within:
        incident: dict[str, Any] = {
            "categories": categories,
            "min_level": level or "L4",
        }
        try:
            incident["within_km"] = float(within) if within else None
        except ValueError:
            problems["within_km"] = N_("Enter a distance in kilometres, like 5.")
        data["conditions"] = {"incident": incident}
    return data, problems


def words(text: str, *, lower: bool = False) -> tuple[str, ...]:
    """Split a comma- or space-separated list (Chinese commas too)."""
    items = (item.strip() for item in SEPARATORS.split(text))
    return tuple(item.lower() if lower else item for item in items if item)


def _submit(
    page: Page, command: Command, posted: FormValues, render: Renderer, notice: str
) -> Response:
    """Send a form's command; go back to /sharing with a notice, or show the form
    again with the refusal (``notice`` may name the outcome as ``{outcome}``)."""
    try:
        outcome = page.muster.bus.handle(command, actor_of(page))
    except MusterError as error:
        if isinstance(error, NotFound) and not error.params.get("dataset"):
            raise
        field, message = refusal(page, error)
        errors = {FORM_FIELDS.get(field, field): message}
        return render(page, posted, errors, status_for(error))
    location = f"/sharing?notice={notice.format(outcome=outcome)}"
    return RedirectResponse(location, status_code=303)


def _render_request(
    page: Page,
    form: FormValues,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    department = actor_of(page).department
    with page.muster.engine.connect() as conn:
        datasets = [
            item
            for item in catalog.list_datasets(conn)
            if item.owner_department != department
        ]
        names = department_names(conn, page.language)
    chosen = next((item for item in datasets if item.code == form.get("dataset")), None)
    return page.render(
        "sharing_request_form.html",
        status_code=status_code,
        form=form,
        errors=_placed(errors, REQUEST_INPUTS),
        datasets=datasets,
        dataset=chosen,
        departments=names,
        min_justification=MIN_JUSTIFICATION,
    )


def _render_agreement(
    page: Page,
    form: FormValues,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    actor = actor_of(page)
    with page.muster.engine.connect() as conn:
        datasets = catalog.list_datasets(conn, department=actor.department or None)
        names = department_names(conn, page.language)
    chosen = next((item for item in datasets if item.code == form.get("dataset")), None)
    owner = chosen.owner_department if chosen else actor.department
    return page.render(
        "sharing_agreement_form.html",
        status_code=status_code,
        form=form,
        errors=_placed(errors, AGREEMENT_INPUTS),
        datasets=datasets,
        dataset=chosen,
        consumers={code: name for code, name in names.items() if code != owner},
        masks=translated(page, MASKS),
        legal_bases={
            code: page.translate(LEGAL_BASIS_LABELS[code]) for code in LEGAL_BASES
        },
        levels={
            code: page.translate(LEVEL_LABELS[code])
            for code in reversed(LEVELS_LOW_TO_HIGH)
        },
        tlps=TLPS,
    )


def _render_break_glass(
    page: Page,
    form: FormValues,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with page.muster.engine.connect() as conn:
        datasets = catalog.list_datasets(conn)
        incidents = response.open_incidents(conn)
        names = department_names(conn, page.language)
    return page.render(
        "sharing_break_glass.html",
        status_code=status_code,
        form=form,
        errors=_placed(errors, BREAK_GLASS_INPUTS),
        datasets=datasets,
        incidents=incidents,
        departments=names,
        min_justification=MIN_JUSTIFICATION,
    )


def _placed(errors: Mapping[str, str] | None, inputs: frozenset[str]) -> dict[str, str]:
    """Keep messages beside the form's inputs; move any other to the top ("")."""
    placed: dict[str, str] = {}
    for key, message in (errors or {}).items():
        target = key if key in inputs else ""
        placed[target] = " ".join(filter(None, (placed.get(target), message)))
    return placed


def _values(**values: str | list[str] | None) -> FormValues:
    items: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, list):
            items.extend((key, item) for item in value)
        elif value is not None:
            items.append((key, value))
    return ImmutableMultiDict(items)


async def _posted(page: Page) -> FormValues:
    posted = await page.request.form()  # already read (and cached) by the CSRF check
    return ImmutableMultiDict(
        [(key, value) for key, value in posted.multi_items() if isinstance(value, str)]
    )


def _dataset(page: Page, code: str) -> catalog.DatasetView | None:
    with page.muster.engine.connect() as conn:
        return catalog.get_dataset(conn, code)


def actor_of(page: Page) -> Actor:
    """Return the signed-in person's actor."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    return page.user.actor


def refusal(page: Page, error: MusterError) -> tuple[str, str]:
    """Return the input a refusal names ("" for none) and its readable message: the
    translated kind of refusal, then the rule's own words."""
    codes = [cls.code for cls in type(error).__mro__ if issubclass(cls, MusterError)]
    kind = next((REFUSALS[code] for code in codes if code in REFUSALS), None)
    lead = page.translate(kind) if kind else message_for(error, page.language)
    detail = error.message.strip()
    text = f"{lead} {detail[:1].upper()}{detail[1:]}." if detail else lead
    return str(error.params.get("field") or ""), text.replace("..", ".")


def department_names(conn: Any, language: str) -> dict[str, str]:
    """Return every department's name in the language, by code."""
    return {item.code: item.name(language) for item in identity.list_departments(conn)}


def translated(page: Page, labels: Mapping[str, str]) -> dict[str, str]:
    """Return labels translated into the page's language."""
    return {key: page.translate(text) for key, text in labels.items()}


__all__ = [
    "LEGAL_BASIS_LABELS",
    "MASKS",
    "REFUSALS",
    "actor_of",
    "agreement_data",
    "department_names",
    "refusal",
    "router",
    "translated",
    "words",
]
