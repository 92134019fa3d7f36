"""Operator commands of the identity part: ``muster users …`` and ``muster apikey …``.

Each command builds one identity command and sends it on the bus as Muster itself
(the operator at the server's shell), or reads through ``queries``. Mounted by the
root CLI, which supplies the deployment through ``muster.core.cli.CliContext``.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from muster.core.cli import cli_context, print_json, read_new_password, stderr, stdout
from muster.core.messages import SYSTEM_ACTOR, Command
from muster.identity import queries
from muster.identity.domain.commands import IssueApiKey, RegisterUser, RevokeApiKey
from muster.identity.domain.model import Role

API_KEY_PREFIX = "mk"

ActAs = Annotated[
    str | None,
    typer.Option("--user", help="Username to act as (default: Muster itself)."),
]
"""The ``--user`` option of commands that act as a person (``run_as``)."""


def run_as(ctx: typer.Context, command: Command, user: str | None) -> Any:
    """Run one command as ``user`` (None: Muster itself); return the answer."""
    with cli_context(ctx).open_deployment() as deployment:
        with deployment.engine.connect() as conn:
            actor = queries.acting_actor(conn, user)
        return deployment.bus.handle(command, actor)


users_app = typer.Typer(
    name="users", help="Manage user accounts.", no_args_is_help=True
)
apikey_app = typer.Typer(
    name="apikey", help="Manage API keys of machine connectors.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class Language(StrEnum):
    """Interface languages a user may choose."""

    ZH_CN = "zh-CN"
    EN = "en"


@users_app.command("add")
def add_user(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. fire.duty.")],
    department: Annotated[str, typer.Option(help="Department code, e.g. FIRE.")],
    role: Annotated[
        list[Role], typer.Option(help="Role to grant; repeat for several.")
    ],
    display_name: Annotated[str, typer.Option(help="Name shown to other users.")],
    language: Annotated[Language, typer.Option(help="Interface language.")] = (
        Language.ZH_CN
    ),
    email: Annotated[str | None, typer.Option(help="Contact address.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from the first line of stdin.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a user account; the password is prompted (hidden) or read from stdin."""
    password = read_new_password(from_stdin=password_stdin)
    command = RegisterUser(
        username=username,
        display_name=display_name,
        department_code=department,
        roles=tuple(item.value for item in role),
        password=password,
        language=language.value,
        email=email,
    )
    with cli_context(ctx).open_deployment() as deployment:
        user_id = deployment.bus.handle(command, SYSTEM_ACTOR)
    if as_json:
        print_json({"id": user_id, "username": username, "department": department})
    else:
        typer.echo(f"Created user {username} in {department} (id {user_id})")


@users_app.command("list")
def list_users(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List user accounts (never passwords)."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        users = queries.list_users(conn)
    if as_json:
        print_json(
            [
                {
                    "id": user.id,
                    "username": user.username,
                    "display_name": user.display_name,
                    "department": user.department_code,
                    "roles": list(user.roles),
                    "language": user.language,
                    "email": user.email,
                    "is_active": user.is_active,
                }
                for user in users
            ]
        )
        return
    table = Table("Username", "Display name", "Department", "Roles", "Language")
    for user in users:
        roles = ", ".join(user.roles)
        table.add_row(
            user.username, user.display_name, user.department_code, roles, user.language
        )
    stdout.print(table)


@apikey_app.command("create")
def create_api_key(
    ctx: typer.Context,
    department: Annotated[str, typer.Option(help="Department the key acts for.")],
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Issue an API key for a department and print it once."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    command = IssueApiKey(
        key_id=key_id,
        secret_hash=queries.api_key_digest(secret),
        department_code=department,
        label=label,
    )
    with cli_context(ctx).open_deployment() as deployment:
        deployment.bus.handle(command, SYSTEM_ACTOR)
    key = f"{API_KEY_PREFIX}_{key_id}_{secret}"
    warning = "Store this key now: Muster keeps only a digest and cannot show it again."
    stderr.print(warning)
    if as_json:
        print_json(
            {"key_id": key_id, "department": department, "label": label, "key": key}
        )
    else:
        typer.echo(f"API key {key_id} for {department}:")
        typer.echo(key)


@apikey_app.command("list")
def list_api_keys(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List API keys (ids and departments, never secrets)."""
    with (
        cli_context(ctx).open_deployment() as deployment,
        deployment.engine.connect() as conn,
    ):
        keys = queries.list_api_keys(conn)
    if as_json:
        print_json(
            [
                {
                    "key_id": key.id,
                    "department": key.department_code,
                    "label": key.label,
                    "created_at": key.created_at,
                    "revoked_at": key.revoked_at,
                }
                for key in keys
            ]
        )
        return
    table = Table("Key id", "Department", "Label", "Created", "Revoked")
    for key in keys:
        table.add_row(
            key.id, key.department_code, key.label, key.created_at, key.revoked_at or ""
        )
    stdout.print(table)


@apikey_app.command("revoke")
def revoke_api_key(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="Id of the key (see `apikey list`).")],
    reason: Annotated[str, typer.Option(help="Why the key is revoked.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Revoke an API key; connectors using it are refused from now on."""
    with cli_context(ctx).open_deployment() as deployment:
        deployment.bus.handle(RevokeApiKey(key_id=key_id, reason=reason), SYSTEM_ACTOR)
    if as_json:
        print_json({"key_id": key_id, "revoked": True})
    else:
        typer.echo(f"Revoked API key {key_id}")


__all__ = ["API_KEY_PREFIX", "apikey_app", "users_app"]
