"""The message bus: one handler per command, in a fresh unit of work (R6).

Imported by bootstrap, which builds it, and by the web and CLI edges, which use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from muster.core.errors import AuthenticationFailed, PermissionDenied
from muster.core.messages import Actor, Command
from muster.core.uow import LogContext, SharedUnitOfWork, UnitOfWork

Handler = Callable[[Any, UnitOfWork], Any]
RefusalRecorder = Callable[[str, Actor, PermissionDenied | AuthenticationFailed], None]
"""Logs a refusal: (action name, actor, error)."""


class MessageBus:
    """Dispatches commands to handlers; records refusals as events."""

    def __init__(
        self,
        *,
        context: LogContext,
        handlers: Mapping[type[Command], Handler],
        record_refusal: RefusalRecorder | None = None,
    ) -> None:
        self.context = context
        self.handlers = dict(handlers)
        self._record_refusal = record_refusal

    def set_refusal_recorder(self, recorder: RefusalRecorder) -> None:
        """Set the function that logs refused commands."""
        self._record_refusal = recorder

    def record_refusal(
        self,
        action: str,
        actor: Actor,
        refusal: PermissionDenied | AuthenticationFailed,
    ) -> None:
        """Log that an actor was refused an action (a command, or a read at an edge)."""
        if self._record_refusal is not None:
            self._record_refusal(action, actor, refusal)

    def unit_of_work(
        self, actor: Actor, *, metadata: dict[str, Any] | None = None
    ) -> UnitOfWork:
        """Return a new unit of work acting for the actor."""
        return UnitOfWork(self.context, actor=actor, metadata=metadata)

    def handle(
        self,
        command: Command,
        actor: Actor,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """Run the command's handler; a refusal is logged before it is re-raised."""
        handler = self.handlers.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        try:
            return handler(command, self.unit_of_work(actor, metadata=metadata))
        except PermissionDenied as refusal:
            self.record_refusal(type(command).__name__, actor, refusal)
            raise

    def handle_batch(
        self,
        commands: Sequence[Command],
        actor: Actor,
        *,
        on_each: Callable[[Command, Any], None] | None = None,
    ) -> list[Any]:
        """Run several commands in one transaction: all of them take effect, or none."""
        shared = SharedUnitOfWork(self.context, actor=actor)
        results: list[Any] = []
        with shared:
            for command in commands:
                handler = self.handlers.get(type(command))
                if handler is None:
                    raise LookupError(f"no handler for {type(command).__name__}")
                result = handler(command, shared)
                results.append(result)
                if on_each is not None:
                    on_each(command, result)
            shared.commit()
        return results


__all__ = ["Handler", "MessageBus"]
