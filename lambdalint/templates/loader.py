"""Read CloudFormation / SAM / serverless YAML (and JSON) into plain values that remember lines.

CloudFormation's short-form intrinsics (`!Ref`, `!GetAtt`, `!Sub`, `!If`, ... and any other
`!Tag`) are not YAML that PyYAML's safe loader can construct. Instead of registering
constructors, this module only *composes* the document (PyYAML's node tree, which never runs
anything) and converts the nodes itself:

- a mapping becomes a `TDict` (a dict) that knows its own line and the line of each key;
- a sequence becomes a `TList` (a list) with its line;
- a scalar with a standard tag becomes the value PyYAML's SafeConstructor gives it;
- a node with any other tag becomes an `Intrinsic` (`!Ref X` -> Intrinsic("Ref", "X")), as does
  the long form (`{"Fn::GetAtt": [...]}`, `{"Ref": ...}`).

Aliases are converted once and shared, so an alias bomb costs no more than its anchors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_MERGE = "tag:yaml.org,2002:merge"
_STANDARD = "tag:yaml.org,2002:"
_MAX_DEPTH = 200  # deeper than any real template; keeps a hostile file from exhausting the stack


class TemplateSyntaxError(Exception):
    """The file is not YAML/JSON we can read; `line` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class TDict(dict):
    """A mapping from the template, with the 1-based line of itself and of each key."""

    line: int = 0

    def __init__(self, *args: Any, line: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any, default: int | None = None) -> int:
        """The line of `key`, else `default` (else the mapping's own line)."""
        return self.key_lines.get(key, self.line if default is None else default)


class TList(list):
    """A sequence from the template, with the 1-based line where it starts."""

    line: int = 0

    def __init__(self, *args: Any, line: int = 0) -> None:
        super().__init__(*args)
        self.line = line


@dataclass(frozen=True)
class Intrinsic:
    """An unevaluated CloudFormation intrinsic function: `function` is the long name
    ("Ref", "Fn::GetAtt", "Fn::Sub", "Condition"), `argument` its converted argument."""

    function: str
    argument: Any
    line: int = 0

    def __hash__(self) -> int:  # arguments are lists/dicts; identity is enough for sets
        return id(self)


def short_tag_name(tag: str) -> str:
    """`!Ref` -> Ref, `!Condition` -> Condition, `!GetAtt` -> Fn::GetAtt."""
    name = tag.lstrip("!")
    return name if name in ("Ref", "Condition") else f"Fn::{name}"


class _Converter:
    def __init__(self) -> None:
        self.scalars = SafeConstructor()
        self.done: dict[int, Any] = {}
        self.busy: set[int] = set()

    def convert(self, node: Node, depth: int = 0) -> Any:
        key = id(node)
        if key in self.done:
            return self.done[key]
        if key in self.busy:
            raise TemplateSyntaxError("an alias refers to a node that contains it (recursive anchor)",
                                      node.start_mark.line + 1)
        if depth > _MAX_DEPTH:
            raise TemplateSyntaxError(f"nesting deeper than {_MAX_DEPTH} levels", node.start_mark.line + 1)
        self.busy.add(key)
        try:
            value = self._convert(node, depth)
        finally:
            self.busy.discard(key)
        self.done[key] = value
        return value

    def _convert(self, node: Node, depth: int) -> Any:
        line = node.start_mark.line + 1
        tag = node.tag or ""
        custom = not tag.startswith(_STANDARD)
        if isinstance(node, ScalarNode):
            if custom:
                return Intrinsic(short_tag_name(tag), node.value, line)
            try:
                return self.scalars.construct_object(node)
            except yaml.YAMLError:
                return node.value  # e.g. an invalid timestamp: keep the text
        if isinstance(node, SequenceNode):
            items = TList((self.convert(child, depth + 1) for child in node.value), line=line)
            return Intrinsic(short_tag_name(tag), items, line) if custom else items
        if isinstance(node, MappingNode):
            mapping = self._mapping(node, depth, line)
            value = _long_form(mapping) or mapping
            return Intrinsic(short_tag_name(tag), value, line) if custom else value
        raise TemplateSyntaxError(f"unexpected YAML node {type(node).__name__}", line)

    def _mapping(self, node: MappingNode, depth: int, line: int) -> TDict:
        mapping = TDict(line=line)
        merged: list[TDict] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                source = self.convert(value_node, depth + 1)
                merged.extend(s for s in (source if isinstance(source, list) else [source]) if isinstance(s, TDict))
                continue
            key = self.convert(key_node, depth + 1)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            mapping[key] = self.convert(value_node, depth + 1)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        for source in merged:  # `<<: *base`: explicit keys win over merged ones
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    mapping.key_lines[key] = source.line_of(key)
        return mapping


def _load_json(text: str) -> Any:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", 0)
        raise TemplateSyntaxError(f"invalid JSON: {getattr(exc, 'msg', exc)}", line) from None
    return _from_json(data)


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        mapping = TDict(((k, _from_json(v)) for k, v in value.items()), line=1)
        return _long_form(mapping) or mapping
    if isinstance(value, list):
        return TList((_from_json(v) for v in value), line=1)
    return value


def _long_form(mapping: TDict) -> Intrinsic | None:
    """`{"Ref": "X"}` / `{"Fn::GetAtt": [...]}` -> Intrinsic (JSON templates have no tags)."""
    if len(mapping) != 1:
        return None
    (key,) = mapping
    if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
        return Intrinsic(key, mapping[key], mapping.line)
    return None


def load(text: str) -> Any:
    """Parse one YAML (or JSON) document. Raises TemplateSyntaxError, never anything else."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        if text.lstrip().startswith("{"):
            return _load_json(text)  # JSON that YAML 1.1 rejects (tabs): read it without lines
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark is not None else 0
        raise TemplateSyntaxError(f"{exc.problem or exc}".strip(), where) from None
    except yaml.YAMLError as exc:
        raise TemplateSyntaxError(str(exc).strip()) from None
    except RecursionError:
        raise TemplateSyntaxError("the document nests too deeply to read") from None
    if node is None:
        return None
    try:
        return _Converter().convert(node)
    except RecursionError:
        raise TemplateSyntaxError("the document nests too deeply to read") from None
