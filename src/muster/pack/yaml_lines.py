"""Safe YAML loading that keeps line numbers, refuses aliases and duplicate keys.

Used by ``muster.pack.validation`` to point every pack problem at a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


@dataclass(frozen=True, slots=True)
class LineMessage:
    """A message about a YAML text, with its 1-based line when known."""

    line: int | None
    message: str


class YamlRefusedError(Exception):
    """The text is not YAML we accept: syntax error, alias or duplicate key."""

    def __init__(self, issues: list[LineMessage]) -> None:
        super().__init__("; ".join(issue.message for issue in issues))
        self.issues = issues


@dataclass(frozen=True, slots=True)
class LoadedYaml:
    """Plain data from a YAML document plus its node tree for line look-ups."""

    data: object
    root: Node | None


class _AliasRefusedError(yaml.MarkedYAMLError):
    """An alias (``*name``) was used; packs forbid them to rule out alias bombs."""


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that stops at the first alias instead of expanding it."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        """Compose a node, refusing aliases."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _AliasRefusedError(
                problem=(
                    f"YAML aliases are not allowed in a pack (found '*{event.anchor}')"
                ),
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document safely; raise ``YamlRefusedError`` naming the lines."""
    loader = _StrictSafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            duplicates = _duplicate_keys(root)
            if duplicates:
                raise YamlRefusedError(duplicates)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        raise YamlRefusedError([_describe(error)]) from error
    except yaml.YAMLError as error:
        raise YamlRefusedError([LineMessage(None, f"invalid YAML: {error}")]) from error
    except RecursionError as error:
        raise YamlRefusedError(
            [LineMessage(None, "YAML is nested too deeply")]
        ) from error
    finally:
        loader.dispose()
    return LoadedYaml(data=data, root=root)


def line_of(root: Node | None, path: Sequence[str | int]) -> int | None:
    """Return the 1-based line of the node at ``path``, or of its nearest ancestor."""
    node = _nearest(root, path)
    return None if node is None else int(node.start_mark.line) + 1


def line_of_key(
    root: Node | None, path: Sequence[str | int], *, key: str
) -> int | None:
    """Return the line of ``key`` inside the mapping at ``path`` (for unknown keys)."""
    node = _nearest(root, path)
    if isinstance(node, MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return int(key_node.start_mark.line) + 1
    return line_of(root, path)


def _nearest(root: Node | None, path: Sequence[str | int]) -> Node | None:
    """Walk ``path`` from ``root`` as far as it exists; return the last node."""
    node = root
    for step in path:
        child = _child(node, step) if node is not None else None
        if child is None:
            break
        node = child
    return node


def _child(node: Node, step: str | int) -> Node | None:
    """Return the child of a mapping (by key) or sequence (by index), if present."""
    if isinstance(node, MappingNode) and isinstance(step, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == step:
                return value_node  # type: ignore[no-any-return]
    if isinstance(node, SequenceNode) and isinstance(step, int):
        items: list[Node] = node.value
        if 0 <= step < len(items):
            return items[step]
    return None


def _duplicate_keys(root: Node) -> list[LineMessage]:
    """List every key repeated within one mapping, at the line of the repeat."""
    issues: list[LineMessage] = []
    pending: list[Node] = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                pending.append(value_node)
                if not isinstance(key_node, ScalarNode):
                    continue
                line = int(key_node.start_mark.line) + 1
                if key_node.value in seen:
                    issues.append(
                        LineMessage(
                            line,
                            f"duplicate key '{key_node.value}' "
                            f"(first defined on line {seen[key_node.value]})",
                        )
                    )
                else:
                    seen[key_node.value] = line
    return sorted(issues, key=lambda issue: issue.line or 0)


def _describe(error: yaml.MarkedYAMLError) -> LineMessage:
    """Turn a PyYAML error into a one-line message at its line."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    if isinstance(error, _AliasRefusedError):
        return LineMessage(line, str(error.problem))
    parts = [part for part in (error.context, error.problem) if part]
    return LineMessage(line, "invalid YAML: " + ", ".join(parts))
