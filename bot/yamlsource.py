"""Parse YAML while remembering the line of every mapping key and sequence item.

The content checker reports `file:line: problem` to teachers, so it needs to know where each
value came from. PyYAML's compose step keeps a start mark on every node; this module walks the
node tree itself, builds plain Python data from it and records, for every path of keys and
indexes, the 1-based line where that key or item starts. It also reports duplicate keys in one
mapping, which `yaml.safe_load` silently resolves by keeping the last one.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import yaml

Loc = tuple[Hashable, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"

# Teachers meet a handful of YAML errors again and again; PyYAML's wording alone rarely tells
# them what to change.
_HINTS = {
    "found character '\\t' that cannot start any token": "indent with spaces, not tabs",
    "mapping values are not allowed here": (
        "a text that contains ': ' must be in quotes; otherwise check the indentation"
    ),
    "could not find expected ':'": (
        "check the indentation of this line and the one above, and that each field has a ':'"
    ),
    "found unexpected end of stream": "a quote was opened and never closed",
    "but found another document": "write one lesson or quiz per file, without '---' lines",
}


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one YAML mapping: where it is now and where it was first."""

    key: Hashable
    line: int
    first_line: int


@dataclass(frozen=True)
class YamlDoc:
    """Plain data parsed from one YAML document, with the source line of every key and item."""

    data: object
    lines: dict[Loc, int] = field(default_factory=dict)
    # Source text of scalars that YAML turned into something other than a string (156, yes,
    # 2024-07-01), so a message can show the author what to put in quotes.
    raw_scalars: dict[Loc, str] = field(default_factory=dict)
    duplicate_keys: tuple[DuplicateKey, ...] = ()

    def line_of(self, loc: Sequence[Hashable]) -> int:
        """Return the line of the deepest key or item on `loc` that exists in the document."""
        path = tuple(loc)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


class YamlSyntaxError(Exception):
    """The text is not valid YAML; `line` is 1-based and `message` is meant for authors."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def parse_yaml(text: str) -> YamlDoc:
    """Parse one YAML document into plain data plus line numbers; raise YamlSyntaxError."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDoc(data=None)
        walker = _Walker(loader)
        data = walker.walk(root, ())
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc) from exc
    except yaml.YAMLError as exc:  # reader errors (e.g. control characters) carry no mark
        raise YamlSyntaxError(1, f"YAML error: {exc}") from exc
    except RecursionError as exc:
        raise YamlSyntaxError(1, "the file is nested too deeply to read") from exc
    finally:
        loader.dispose()
    return YamlDoc(
        data=data,
        lines=walker.lines,
        raw_scalars=walker.raw_scalars,
        duplicate_keys=tuple(walker.duplicates),
    )


class _Walker:
    """Builds Python data from composed nodes, recording lines as it goes."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.raw_scalars: dict[Loc, str] = {}
        self.duplicates: list[DuplicateKey] = []
        # Nodes being walked right now: an alias back into one of them would loop forever.
        self._active: set[int] = set()

    def walk(self, node: yaml.Node, loc: Loc) -> object:
        """Return the Python value of `node`, found at `loc`."""
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            value: object = self.loader.construct_object(node)
            if not isinstance(value, str):
                self.raw_scalars[loc] = str(node.value)
            return value
        if id(node) in self._active:
            raise YamlSyntaxError(node.start_mark.line + 1, "an alias (*name) refers to itself")
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, loc)
        finally:
            self._active.discard(id(node))
        raise YamlSyntaxError(node.start_mark.line + 1, "unsupported YAML node")

    def _key(self, node: yaml.Node) -> Hashable:
        key = self.loader.construct_object(node, deep=True)
        if not isinstance(key, Hashable):
            raise YamlSyntaxError(
                node.start_mark.line + 1, "a field name must be a plain word, not a list or mapping"
            )
        return key

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Hashable, object]:
        # Duplicates are judged on the keys written in this mapping only: a key that overrides
        # one merged in with `<<: *anchor` is intended, not a mistake.
        first_lines: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            line = key_node.start_mark.line + 1
            if key in first_lines:
                self.duplicates.append(DuplicateKey(key, line, first_lines[key]))
            else:
                first_lines[key] = line
        self.loader.flatten_mapping(node)
        result: dict[Hashable, object] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            path = (*loc, key)
            if key in result:
                self._forget(path)  # PyYAML keeps the last of duplicate keys; so do the lines
            self.lines[path] = key_node.start_mark.line + 1
            result[key] = self.walk(value_node, path)
        return result

    def _forget(self, path: Loc) -> None:
        for table in (self.lines, self.raw_scalars):
            for stale in [p for p in table if p[: len(path)] == path]:
                del table[stale]

    def _sequence(self, node: yaml.SequenceNode, loc: Loc) -> list[object]:
        items: list[object] = []
        for index, item_node in enumerate(node.value):
            path = (*loc, index)
            self.lines[path] = item_node.start_mark.line + 1
            items.append(self.walk(item_node, path))
        return items


def _syntax_error(exc: yaml.MarkedYAMLError) -> YamlSyntaxError:
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    mark = exc.problem_mark or exc.context_mark
    if problem == "found unexpected end of stream" and exc.context_mark is not None:
        mark = exc.context_mark  # the end of the file says nothing; where the quote opened does
    line = mark.line + 1 if mark is not None else 1
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem:
        context = exc.context.strip()
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            context += f" that starts on line {exc.context_mark.line + 1}"
        message += f" ({context})"
    hint = _HINTS.get(problem)
    if hint:
        message += f"; {hint}"
    return YamlSyntaxError(line, message)
