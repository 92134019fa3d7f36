"""``muster init``: create the data folder, schema, signing key and first administrator.

Idempotent: on an initialised database it says so and changes nothing. Mounted by the
root CLI (``muster.cli``); nothing else imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer
from sqlalchemy import Engine

from muster.bootstrap import bootstrap
from muster.core.cli import print_json, read_new_password
from muster.core.db import make_engine
from muster.core.errors import ConfigurationError
from muster.core.eventlog.signing import (
    SigningKey,
    create_signing_key,
    load_signing_key,
)
from muster.core.migrate import is_current, upgrade
from muster.identity import queries
from muster.identity.domain.commands import RegisterDepartment, RegisterUser
from muster.identity.domain.model import Role
from muster.pack.loader import run_in_one_transaction
from muster.settings import Settings, get_settings


@dataclass(frozen=True, slots=True)
class AdminSpec:
    """The first department and administrator that ``init`` creates."""

    username: str
    display_name: str
    department_code: str
    department_name_zh: str
    department_name_en: str


def init(
    admin_username: Annotated[
        str, typer.Option(help="Username of the first administrator.")
    ] = "admin",
    admin_display_name: Annotated[
        str, typer.Option(help="Display name of the first administrator.")
    ] = "Administrator",
    admin_department_code: Annotated[
        str, typer.Option(help="Code of the administrators' department.")
    ] = "ADMIN",
    admin_department_name_zh: Annotated[
        str, typer.Option(help="Chinese name of that department.")
    ] = "系统管理",
    admin_department_name_en: Annotated[
        str, typer.Option(help="English name of that department.")
    ] = "System administration",
    password_stdin: Annotated[
        bool, typer.Option(help="Read the admin password from the first line of stdin.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Prepare a new deployment: folder, database schema, signing key, first admin."""
    settings = get_settings()
    admin = AdminSpec(
        username=admin_username,
        display_name=admin_display_name,
        department_code=admin_department_code,
        department_name_zh=admin_department_name_zh,
        department_name_en=admin_department_name_en,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        if _is_initialised(engine):
            _confirm_initialised(settings, as_json=as_json)
            return
        password = read_new_password(from_stdin=password_stdin)
        upgrade(engine)
        key = _ensure_signing_key(settings)
        _create_admin(settings, engine, admin, password=password)
    finally:
        engine.dispose()
    _print_initialised(settings, admin, key, as_json=as_json)


def _is_initialised(engine: Engine) -> bool:
    """Tell whether the schema is current and an administrator exists."""
    if not is_current(engine):
        return False
    with engine.connect() as conn:
        return any(Role.ADMIN.value in user.roles for user in queries.list_users(conn))


def _confirm_initialised(settings: Settings, *, as_json: bool) -> None:
    """Say that nothing needs doing, or refuse if the signing key went missing."""
    key_file = settings.effective_signing_key_file
    if not key_file.exists():
        raise ConfigurationError(
            f"Muster is initialised but its signing key {key_file} is missing; "
            "restore it from a backup (a new key could not vouch for old checkpoints)",
            path=str(key_file),
        )
    if as_json:
        print_json({"created": False, "already_initialised": True})
    else:
        typer.echo("Muster is already initialised here; nothing changed.")


def _ensure_signing_key(settings: Settings) -> SigningKey:
    """Load the signing key, creating it when it does not exist yet."""
    path = settings.effective_signing_key_file
    if path.exists():
        return load_signing_key(path)
    return create_signing_key(path)


def _create_admin(
    settings: Settings, engine: Engine, admin: AdminSpec, *, password: str
) -> None:
    """Register the admin department (if needed) and user in one transaction."""
    deployment = bootstrap(settings, engine=engine)
    department = RegisterDepartment(
        code=admin.department_code,
        name_zh=admin.department_name_zh,
        name_en=admin.department_name_en,
        type="other",
    )
    user = RegisterUser(
        username=admin.username,
        display_name=admin.display_name,
        department_code=admin.department_code,
        roles=(Role.ADMIN.value,),
        password=password,
        language=settings.default_language,
    )
    run_in_one_transaction(deployment.bus, [department, user])


def _print_initialised(
    settings: Settings, admin: AdminSpec, key: SigningKey, *, as_json: bool
) -> None:
    """Report what init created."""
    key_file = settings.effective_signing_key_file
    if as_json:
        print_json(
            {
                "created": True,
                "already_initialised": False,
                "admin": admin.username,
                "department": admin.department_code,
                "signing_key_file": str(key_file),
                "key_id": key.key_id,
            }
        )
        return
    typer.echo(f"Database ready: {_safe_url(settings.effective_database_url)}")
    typer.echo(f"Signing key: {key_file} (key id {key.key_id}); back it up safely")
    typer.echo(f"Administrator {admin.username} created in {admin.department_code}")
    typer.echo("Next: `muster load PACK_DIR`, then `muster serve`.")


def _safe_url(url: str) -> str:
    """Return a database URL without its credentials."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


__all__ = ["AdminSpec", "init"]
