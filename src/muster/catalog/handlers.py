"""Command handlers of the catalog part: load -> decide -> append -> commit (R6)."""

from __future__ import annotations

from muster.catalog.domain.commands import RegisterDataset
from muster.catalog.domain.errors import UnknownOwnerDepartment
from muster.catalog.domain.model import Outcome, check_code, rebuild, register_dataset
from muster.core.bus import Handler
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity_queries


def handle_register_dataset(command: RegisterDataset, uow: UnitOfWork) -> Outcome:
    """Register a dataset or bring it up to date; return created/updated/unchanged."""
    code = check_code(command.metadata.code)
    stream = f"dataset-{code}"
    with uow:
        recorded = uow.context.store.read_stream(uow.conn, stream)
        current = rebuild(item.event for item in recorded)
        outcome, events = register_dataset(
            current, command.metadata, command.fields, actor=uow.actor
        )
        if not events:
            return outcome
        owner = command.metadata.owner_department.strip()
        if identity_queries.get_department(uow.conn, owner) is None:
            raise UnknownOwnerDepartment(
                f"department {owner} does not exist", field="owner_department"
            )
        uow.append(stream, events, expected_version=len(recorded))
        uow.commit()
    return outcome


COMMAND_HANDLERS: dict[type[Command], Handler] = {
    RegisterDataset: handle_register_dataset
}

__all__ = ["COMMAND_HANDLERS", "handle_register_dataset"]
