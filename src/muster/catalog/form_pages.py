"""Catalog pages that change the catalog: register a dataset, and edit one, by form.

Each submission is one ``RegisterDataset`` through the bus, which decides who may
register what; a refusal shows the form again beside the input it names. Imported by
``web.app``, which mounts ``router`` before ``catalog.pages`` (so that ``/catalog/new``
is not read as a dataset code).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.catalog import queries
from muster.catalog.domain.errors import UnknownDataset
from muster.catalog.domain.model import CSV_ENCODINGS, may_register
from muster.catalog.forms import (
    DATASET_EXISTS,
    DatasetForm,
    blank_form,
    form_of,
    parse_form,
    refusal_target,
    to_submission,
)
from muster.catalog.pages import translated_labels
from muster.core.errors import DomainError, PermissionDenied
from muster.core.messages import Actor
from muster.identity import queries as identity_queries
from muster.web.errors import message_for, status_for
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

MORE_ROWS = "more_rows"  # the value of the "More field rows" button


@router.get("/catalog/new")
def new_dataset_form(page: SignedInPage) -> Response:
    """Show an empty registration form owned by the person's department."""
    return _render(page, blank_form(owner=_actor(page).department or ""))


@router.post("/catalog/new")
async def register_dataset(page: SignedInPage) -> Response:
    """Register the dataset the form describes, or show the form again."""
    form, is_more_rows = await _posted(page)
    return await run_in_threadpool(
        _submit, page, form, is_more_rows=is_more_rows, code=None
    )


@router.get("/catalog/{code}/edit")
def edit_dataset_form(code: str, page: SignedInPage) -> Response:
    """Show a dataset's form filled in from the catalog (the code cannot change)."""
    dataset = _dataset(page, code)
    return _render(page, form_of(dataset), dataset=dataset)


@router.post("/catalog/{code}/edit")
async def update_dataset(code: str, page: SignedInPage) -> Response:
    """Bring a dataset up to date from the form (new fields: a new schema version)."""
    form, is_more_rows = await _posted(page)
    return await run_in_threadpool(
        _submit, page, form, is_more_rows=is_more_rows, code=code
    )


async def _posted(page: Page) -> tuple[DatasetForm, bool]:
    posted = await page.request.form()  # already read (and cached) by the CSRF check
    items = [
        (key, value) for key, value in posted.multi_items() if isinstance(value, str)
    ]
    return parse_form(items), posted.get("action") == MORE_ROWS


def _submit(
    page: Page, form: DatasetForm, *, is_more_rows: bool, code: str | None
) -> Response:
    dataset = _dataset(page, code) if code is not None else None
    if dataset is not None:
        form = form.with_value("code", dataset.code)
    if is_more_rows:
        return _render(page, form.with_blank_rows(), dataset=dataset)
    submission, errors = to_submission(form)
    if submission is None:
        messages = {key: page.translate(message) for key, message in errors.items()}
        return _render(page, form, dataset=dataset, errors=messages, status_code=422)
    new_code = submission.command.metadata.code
    if dataset is None and _find(page, new_code) is not None:
        # The command would update the existing entry; a new one must not do that.
        messages = {"code": page.translate(DATASET_EXISTS)}
        return _render(page, form, errors=messages, status_code=409)
    try:
        outcome = page.muster.bus.handle(submission.command, _actor(page))
    except (DomainError, PermissionDenied) as error:
        target, message = refusal_target(error, submission.rows)
        text = page.translate(message) if message else ""
        messages = {target: text or message_for(error, page.language)}
        status_code = status_for(error)
        return _render(
            page, form, dataset=dataset, errors=messages, status_code=status_code
        )
    location = f"/catalog/{quote(new_code, safe='')}?notice={outcome}"
    return RedirectResponse(location, status_code=303)


def _render(
    page: Page,
    form: DatasetForm,
    *,
    dataset: queries.DatasetView | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    actor = _actor(page)
    chosen = form.value("owner_department")
    with page.muster.engine.connect() as conn:
        departments = identity_queries.list_departments(conn)
    # The departments the bus would accept, plus the person's own and the one chosen,
    # so that what the form sends is always listed (the bus refuses what it must).
    owners = {
        view.code: view.name(page.language)
        for view in departments
        if may_register(actor, view.code) or view.code in (chosen, actor.department)
    }
    action = f"/catalog/{quote(dataset.code, safe='')}/edit" if dataset else None
    return page.render(
        "catalog_form.html",
        status_code=status_code,
        form=form,
        errors=errors or {},
        dataset=dataset,
        action=action or "/catalog/new",
        owners=owners,
        encodings=CSV_ENCODINGS,
        labels=translated_labels(page),
        more_rows=MORE_ROWS,
    )


def _dataset(page: Page, code: str) -> queries.DatasetView:
    dataset = _find(page, code)
    if dataset is None:
        raise UnknownDataset(f"no dataset {code}", dataset=code)
    return dataset


def _find(page: Page, code: str) -> queries.DatasetView | None:
    with page.muster.engine.connect() as conn:
        return queries.get_dataset(conn, code)


def _actor(page: Page) -> Actor:
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    return page.user.actor


__all__ = ["router"]
