"""Reads YAML and JSON strictly, with the line each value starts on, and validates what it
read into a model with every problem as `file:line: field: what is wrong`."""

from __future__ import annotations

import bisect
import datetime
import json
import json.decoder
import json.scanner
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from meso_cli.errors import FileProblems, Problem, close_matches, file_error
from meso_cli.text import unsafe_character

M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 32

Loc = tuple[str | int, ...]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.constructor.SafeConstructor()
_ALLOWED_TAGS = {
    f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str", "timestamp")
}


@dataclass
class Document:
    """A parsed file, and the line on which each value starts."""

    path: str
    value: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    # How a YAML plain scalar that did not become text was written (`no`, `0042`), so an
    # error can say that YAML 1.1 read it as false or as the octal number 34.
    plain: dict[Loc, str] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get(())


def parse(text: str, path: str) -> Document:
    """YAML or JSON text to plain values, rejecting duplicate keys, tags, aliases, escapes
    that make half a character, and control characters written raw.

    The reader is chosen by the file's extension: `.json` is JSON, anything else YAML (a
    `.yaml` file holding `{age: 30}` is YAML's flow style, not broken JSON). Only standard
    input, which has no name, is sniffed: text that starts with `{` is read as JSON.
    """
    reject_raw(text, path)
    return _parse(text, path)


def _parse(text: str, path: str) -> Document:
    name = path.lower()
    if name.endswith(".json") or (path in ("-", "<stdin>") and text.lstrip().startswith("{")):
        doc = _parse_json(text, path)
    else:
        doc = _parse_yaml(text, path)
    if "\\" in text:  # only an escape (\ud800) can make a lone surrogate in UTF-8 text
        reject_surrogates(doc)
    return doc


# Control characters written raw in a file (not as an escape such as "\e"), which YAML's reader
# refuses with a message of two lines and no line number, and JSON with a column only. Tab and
# line endings (CR too) belong to the file's layout; bidirectional controls are valid YAML and
# JSON, and refused by the models with the field they are in.
_RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_STAND_IN = "\ufdd0"  # a noncharacter, valid in YAML and JSON, put where the raw one was


def reject_raw(text: str, path: str) -> None:
    """A control character written raw is one problem with its line, and the field when the
    text can be read with the character replaced (it may sit in a comment, or break the
    syntax)."""
    found = _RAW.search(text)
    if found is None:
        return
    at, what = found.start(), unsafe_character(found.group())
    line = text.count("\n", 0, at) + 1
    where = None
    try:
        doc = _parse(text[:at] + _STAND_IN + _RAW.sub(" ", text[at + 1 :]), path)
        where = _holding(doc.value, (), _STAND_IN)
    except FileProblems:
        pass
    named = f"{describe(where) or 'top level'}: " if where is not None else ""
    raise file_error(path, line, f"{named}{what} is not allowed")


def _holding(value: Any, loc: Loc, needle: str) -> Loc | None:
    """Where in a parsed value the text holding `needle` is (a key is named by its mapping)."""
    if isinstance(value, str):
        return loc if needle in value else None
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    for key, item in items:
        if isinstance(key, str) and needle in key:
            return loc
        found = _holding(item, loc + (key,), needle)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class TooLong:
    """A whole number written with more digits than Python turns into an int (thousands): held
    as its length, so that the field refuses it in its own words ("not a whole number 0–130")
    instead of Python's hint about sys.set_int_max_str_digits."""

    digits: int

    def __repr__(self) -> str:
        return f"a {self.digits}-digit number"


LONGEST_NUMBER = 100  # digits: no number the tool reads comes near


def whole_number(text: str) -> int | TooLong:
    """A JSON integer (json's parse_int), or TooLong."""
    if len(text) > LONGEST_NUMBER:
        return TooLong(len(text.lstrip("+-")))
    return int(text)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _surrogates(value: Any, loc: Loc) -> tuple[Loc, Loc] | None:
    """Where text with a lone surrogate is: the location for its line, and the one to name
    (a bad key is named by the mapping it is in: it cannot be shown itself)."""
    if isinstance(value, str):
        return (loc, loc) if _SURROGATE.search(value) else None
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    for key, item in items:
        if isinstance(key, str) and _SURROGATE.search(key):
            return loc + (key,), loc
        found = _surrogates(item, loc + (key,))
        if found is not None:
            return found
    return None


def reject_surrogates(doc: Document) -> None:
    """An escape such as \\ud800 (half of a UTF-16 pair, alone) makes text that is not
    characters and cannot be written out: an error with its line, not a crash later."""
    found = _surrogates(doc.value, ())
    if found is not None:
        at, named = found
        raise file_error(
            doc.path,
            doc.line_of(at),
            f"{describe(named) or 'top level'}: a \\u escape "
            "gives half a character (a lone UTF-16 surrogate such as \\ud800); fix the text",
        )


class _JsonProblem(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this tool accepts")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


class _LineDecoder(json.JSONDecoder):
    """json's own pure-Python scanner, hooked to note the line of every value and to refuse
    duplicate keys and deep nesting with the line where they occur."""

    def __init__(self, text: str) -> None:
        super().__init__(
            parse_constant=_reject_constant, parse_float=_finite, parse_int=whole_number
        )
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.items: dict[int, list[int]] = {}  # id(dict or list) -> start of each value
        self.depth = 0
        self.last = 0
        self.parse_object = self._object
        self.parse_array = self._array
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def _enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _JsonProblem(pos, f"nested more than {MAX_DEPTH} levels deep")

    def _noting(self, scan_once: Any, starts: list[int]) -> Any:
        def scan(s: str, idx: int) -> Any:
            self.last = idx
            starts.append(idx)
            return scan_once(s, idx)

        return scan

    def _object(
        self,
        s_and_end: tuple[str, int],
        strict: bool,
        scan_once: Any,
        object_hook: Any,
        object_pairs_hook: Any,
        memo: Any,
    ) -> tuple[Any, int]:
        self._enter(s_and_end[1] - 1)
        starts: list[int] = []

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for n, (key, value) in enumerate(items):
                if key in out:
                    raise _JsonProblem(starts[n], f"duplicate key {key!r}")
                out[key] = value
            return out

        obj, end = json.decoder.JSONObject(  # type: ignore[attr-defined]
            s_and_end, strict, self._noting(scan_once, starts), None, pairs, memo
        )
        self.items[id(obj)] = starts
        self.depth -= 1
        return obj, end

    def _array(self, s_and_end: tuple[str, int], scan_once: Any) -> tuple[Any, int]:
        self._enter(s_and_end[1] - 1)
        starts: list[int] = []
        arr, end = json.decoder.JSONArray(  # type: ignore[attr-defined]
            s_and_end, self._noting(scan_once, starts)
        )
        self.items[id(arr)] = starts
        self.depth -= 1
        return arr, end

    def note_lines(self, value: Any, loc: Loc, lines: dict[Loc, int]) -> None:
        starts = self.items.get(id(value), [])
        children = list(value.items()) if isinstance(value, dict) else enumerate(value)
        for (key, child), start in zip(children, starts, strict=False):
            lines[loc + (key,)] = self.line(start)
            if isinstance(child, dict | list):
                self.note_lines(child, loc + (key,), lines)


def _parse_json(text: str, path: str) -> Document:
    decoder = _LineDecoder(text)
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise file_error(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except _JsonProblem as exc:
        raise file_error(path, decoder.line(exc.pos), f"invalid JSON: {exc.message}") from None
    except (ValueError, RecursionError) as exc:
        msg = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise file_error(path, decoder.line(decoder.last), f"invalid JSON: {msg}") from None
    doc = Document(path, value)
    doc.lines[()] = decoder.line(len(text) - len(text.lstrip()))
    if isinstance(value, dict | list):
        decoder.note_lines(value, (), doc.lines)
    return doc


def _yaml_error(path: str, exc: yaml.YAMLError) -> FileProblems:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at = mark.line + 1 if mark is not None else None
        # `---` or `...` then more: libyaml says "another document" or "expected <document
        # start>"; a file is one document.
        if "another document" in str(exc.problem) or "<document start>" in str(exc.problem):
            return file_error(path, at, "more than one YAML document; a file holds one")
        # libyaml 0.2.6 (PyYAML 6.0.4's wheels) stops at 1,000 levels, before meso's own check
        # of MAX_DEPTH sees the events: the same message, whichever limit is met first.
        if "maximum nesting depth" in str(exc.problem):
            return file_error(path, at, f"nested more than {MAX_DEPTH} levels deep")
        return file_error(path, at, f"invalid YAML: {exc.problem or exc.context}")
    return file_error(path, None, f"invalid YAML: {exc}")


def _mark_line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:bool` as it is written in a file: `!!bool`."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


def _precheck_yaml(text: str, path: str) -> None:
    """Walk the event stream first: libyaml's composer recurses in C and a file of 100,000
    `[` would crash it, and an alias bomb should be refused before anything is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise file_error(
                path,
                _mark_line(event.start_mark),
                "YAML aliases (*name) are not allowed; write the value out",
            )
        # An explicit tag, even a standard one (`!!bool true`, `!!str 42`), is refused: it
        # resolves like the plain value, so the composed tree cannot tell it was there.
        if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent) and event.tag:
            raise file_error(
                path,
                _mark_line(event.start_mark),
                f"YAML tag {_short_tag(event.tag)} is not allowed; write the value plainly",
            )
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise file_error(
                    path, _mark_line(event.start_mark), f"nested more than {MAX_DEPTH} levels deep"
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _parse_yaml(text: str, path: str) -> Document:
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        raise file_error(path, line, "tab character; indent YAML with spaces")
    try:
        _precheck_yaml(text, path)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    except RecursionError:
        raise file_error(path, None, "invalid YAML: nested too deeply") from None
    if node is None:
        raise file_error(path, None, "file is empty, expected a YAML or JSON mapping")
    doc = Document(path, None)
    doc.value = _walk(node, (), doc, set())
    return doc


_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def _number_kind(raw: str) -> str:
    digits = raw.lstrip("+-")
    if ":" in digits:
        return "base-60 (sexagesimal)"
    if digits[:2] in ("0x", "0X"):
        return "hexadecimal"
    if digits[:2] in ("0b", "0B"):
        return "binary"
    if digits[:1] == "0" and len(digits) > 1:
        return "octal"
    return "grouped"


def _scalar(node: yaml.ScalarNode, loc: Loc, doc: Document, line: int) -> Any:
    where = describe(loc) or "top level"
    raw = str(node.value)
    if node.tag.endswith(":int") and len(raw) > LONGEST_NUMBER:
        return TooLong(len(raw.lstrip("+-")))
    try:
        value = _constructor.yaml_constructors[node.tag](_constructor, node)
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        kind = "date" if node.tag.endswith(":timestamp") else node.tag.rsplit(":", 1)[-1]
        raise file_error(doc.path, line, f"{where}: {raw!r} is not a real {kind} ({exc})") from None
    if isinstance(value, bool) or value is None or not isinstance(value, str):
        if not node.style and loc[-1:] != ("<key>",):  # plain: None, or "" from libyaml
            doc.plain[loc] = raw
    if isinstance(value, int) and not isinstance(value, bool) and not _DECIMAL.fullmatch(raw):
        raise file_error(
            doc.path,
            line,
            f"{where}: {raw} is read by YAML 1.1 as the {_number_kind(raw)} number {value}; "
            f'write plain digits, or put it in quotes ("{raw}") if it is text such as an id',
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise file_error(doc.path, line, f"{where}: {raw}: NaN and infinity are not accepted")
    return value


def _walk(node: yaml.Node, loc: Loc, doc: Document, seen: set[int]) -> Any:
    line = node.start_mark.line + 1
    if len(loc) > MAX_DEPTH:
        raise file_error(doc.path, line, f"nested more than {MAX_DEPTH} levels deep")
    if id(node) in seen:
        raise file_error(doc.path, line, "YAML aliases (*name) are not allowed; write it out")
    seen.add(id(node))
    doc.lines[loc] = line
    if isinstance(node, yaml.MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise file_error(doc.path, line, f"YAML tag {node.tag} is not allowed")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise file_error(doc.path, key_line, "YAML merge keys (<<) are not allowed")
            key = _walk(key_node, loc + ("<key>",), doc, seen)
            if not isinstance(key, str):
                written = key_node.value if isinstance(key_node, yaml.ScalarNode) else key
                raise file_error(
                    doc.path,
                    key_line,
                    f"key {written} is read by YAML as {_yaml_kind(key)}; a key must be text: "
                    f'put it in quotes ("{written}")',
                )
            if key in out:
                raise file_error(doc.path, key_line, f"duplicate key {key!r}")
            out[key] = _walk(value_node, loc + (key,), doc, seen)
            doc.lines[loc + (key,)] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise file_error(doc.path, line, f"YAML tag {node.tag} is not allowed")
        return [_walk(item, loc + (i,), doc, seen) for i, item in enumerate(node.value)]
    if node.tag not in _ALLOWED_TAGS:
        raise file_error(doc.path, line, f"YAML tag {node.tag} is not allowed")
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node, loc, doc, line)


def _yaml_kind(value: Any) -> str:
    """How YAML 1.1 read an unquoted word, for a message: `no` -> 'false'."""
    if isinstance(value, bool):
        return "true (a yes/no value)" if value else "false (a yes/no value)"
    if value is None:
        return "null (no value)"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, datetime.datetime):
        return f"the date and time {value.isoformat(sep=' ')}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__}"


def describe(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _nulls(value: Any, loc: Loc) -> list[Loc]:
    if value is None:
        return [loc]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _nulls(v, loc + (k,))]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in _nulls(v, loc + (i,))]
    return []


def reject_nulls(doc: Document) -> None:
    """An empty value (`pregnant:` or `"pregnant": null`) is an error, never a silent default:
    a flag left empty would otherwise be read as 'not stated, taken as no'."""
    problems = [
        Problem(
            doc.path,
            doc.line_of(loc),
            f"{describe(loc) or 'top level'}: empty value "
            "(null); give a value, or leave the key out",
        )
        for loc in _nulls(doc.value, ())
    ]
    if problems:
        raise FileProblems("invalid file", problems=problems)


# --- into a model ---------------------------------------------------------------------------


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def _keys_of(model: type[BaseModel], into: set[str]) -> set[str]:
    """Every key the model accepts at any depth, for 'did you mean' on a misspelled key."""
    for name, info in model.model_fields.items():
        into.add(info.alias or name)
        for sub in _models_in(info.annotation):
            if sub is not model:
                _keys_of(sub, into)
    return into


_EXPECTED = {
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of keys",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
}


def _doc_loc(loc: Sequence[str | int], value: Any) -> Loc:
    """Pydantic's error location as a path in the file, without its union and model tags."""
    out: list[str | int] = []
    here = value
    for part in loc:
        if isinstance(here, dict) and isinstance(part, str) and part in here:
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            here = here[part]
        elif isinstance(part, str) and (part[:1].isupper() or "[" in part):
            continue  # a tag such as 'ConditionEntry' or 'function-after[...]'
        else:
            here = None
        out.append(part)
    return tuple(out)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_problems(
    exc: ValidationError, doc: Document, model: type[BaseModel], drop: int = 0
) -> list[Problem]:
    """Pydantic errors as `file:line: field: what is wrong` with a close key for typos."""
    known = _keys_of(model, set())
    problems = []
    for err in exc.errors(include_url=False):
        loc = _doc_loc(err["loc"][drop:], doc.value)
        line = doc.line_of(loc)
        where = describe(loc) or "top level"
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            hint = close_matches(key, known)
            msg = f"unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
            where = describe(loc[:-1]) or "top level"
        elif kind == "missing":
            msg = "required, but missing"
        else:
            msg = _EXPECTED.get(kind) or err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            if kind not in ("value_error", "assertion_error") and "input" in err:
                msg += f", got {doc.plain.get(loc) or _shown(got)}"
            if kind == "literal_error" and isinstance(got, str):
                choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
                hint = close_matches(got, choices)
                msg += f" (did you mean {hint[0]!r}?)" if hint else ""
            elif kind == "list_type" and isinstance(got, str | int | float):
                msg += f"; write a list even for one item: [{got}]"
            elif isinstance(got, datetime.datetime):
                msg += " — write the date only, as YYYY-MM-DD"
            elif loc in doc.plain and (kind == "string_type" or isinstance(got, bool)):
                raw = doc.plain[loc]
                msg += (
                    f" — YAML reads the unquoted {raw} as {_yaml_kind(got)}; "
                    f'put it in quotes ("{raw}") if it is text'
                )
        problems.append(Problem(doc.path, line, f"{where}: {msg}"))
    return problems


def validate(doc: Document, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """The document's value as `model`, or every problem with its line. `context` reaches the
    model's validators (the patient is read for a reference date: `{"on": day}`)."""
    if not isinstance(doc.value, dict):
        kinds = {list: "a list", str: "text", bool: "true or false", type(None): "nothing"}
        got = kinds.get(type(doc.value), f"a {type(doc.value).__name__}")
        raise file_error(
            doc.path, doc.line_of(()), f"expected a mapping of keys (key: value), got {got}"
        )
    try:
        return model.model_validate(doc.value, context=context)
    except ValidationError as exc:
        raise FileProblems("invalid file", problems=validation_problems(exc, doc, model)) from None
