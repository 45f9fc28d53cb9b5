"""Reads YAML and JSON strictly (with line numbers) and loads the clinical data files."""

from __future__ import annotations

import bisect
import datetime
import hashlib
import json
import json.decoder
import json.scanner
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from meso_cli.errors import FileProblems, Problem, close_matches, file_error
from meso_cli.models import (
    AgeAbove,
    AgeBelow,
    AnyOf,
    CareItem,
    Dataset,
    Flag,
    HasCondition,
    MedicationCount,
    Protocol,
    Rule,
    TakesMedication,
    Term,
    TermKind,
    Trigger,
)
from meso_cli.models import Strict as _Strict

MAX_BYTES = 1 << 20  # a patient or data file is a few KiB; refuse anything absurd
MAX_DEPTH = 32
DATA_FILES = ("contraindications.yaml", "protocols.yaml")

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

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


def read_text(path: str, stdin: Callable[[], bytes] | None = None) -> str:
    """The text of a file (or `-`), refusing what is not a small UTF-8 text file."""
    if path == "-":
        if stdin is None:
            raise file_error("<stdin>", None, "standard input is not available")
        raw = stdin()
        shown = "<stdin>"
    else:
        p = Path(path)
        shown = path
        try:
            if not p.exists():
                raise file_error(shown, None, "no such file")
            if p.is_dir():
                raise file_error(shown, None, "is a directory, expected a YAML or JSON file")
            size = p.stat().st_size
            if size > MAX_BYTES:
                raise file_error(shown, None, f"file is {size} bytes; the limit is {MAX_BYTES}")
            # Read at most one byte over the limit: /dev/zero or a FIFO reports size 0.
            with p.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise file_error(shown, None, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise file_error(shown, None, f"input is over {MAX_BYTES} bytes")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark from a Windows editor is harmless; drop it
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise file_error(shown, None, "UTF-16 text; save the file as UTF-8")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise file_error(shown, line, "binary file (NUL bytes), expected YAML or JSON text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise file_error(shown, line, "not UTF-8 text; save the file as UTF-8") from None
    if not text.strip():
        raise file_error(shown, None, "file is empty, expected a YAML or JSON mapping")
    return text


def parse(text: str, path: str) -> Document:
    """YAML or JSON text to plain values, rejecting duplicate keys, tags and aliases."""
    stripped = text.lstrip()
    if path.lower().endswith(".json") or stripped.startswith("{"):
        return _parse_json(text, path)
    return _parse_yaml(text, path)


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
        super().__init__(parse_constant=_reject_constant, parse_float=_finite)
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

    def _object(self, s_and_end: tuple[str, int], strict: bool, scan_once: Any,
                object_hook: Any, object_pairs_hook: Any, memo: Any) -> tuple[Any, int]:
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
        return file_error(path, at, f"invalid YAML: {exc.problem or exc.context}")
    return file_error(path, None, f"invalid YAML: {exc}")


def _mark_line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:bool` as it is written in a file: `!!bool`."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def _precheck_yaml(text: str, path: str) -> None:
    """Walk the event stream first: libyaml's composer recurses in C and a file of 100,000
    `[` would crash it, and an alias bomb should be refused before anything is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise file_error(path, _mark_line(event.start_mark),
                             "YAML aliases (*name) are not allowed; write the value out")
        # An explicit tag, even a standard one (`!!bool true`, `!!str 42`), is refused: it
        # resolves like the plain value, so the composed tree cannot tell it was there.
        if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent) and event.tag:
            raise file_error(path, _mark_line(event.start_mark),
                             f"YAML tag {_short_tag(event.tag)} is not allowed; "
                             "write the value plainly")
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise file_error(path, _mark_line(event.start_mark),
                                 f"nested more than {MAX_DEPTH} levels deep")
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
    where = _describe(loc) or "top level"
    raw = str(node.value)
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
            doc.path, line,
            f"{where}: {raw} is read by YAML 1.1 as the {_number_kind(raw)} number {value}; "
            f"write plain digits, or put it in quotes (\"{raw}\") if it is text such as an id",
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
                    doc.path, key_line,
                    f"key {written} is read by YAML as {_yaml_kind(key)}; a key must be text: "
                    f"put it in quotes (\"{written}\")",
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


def _describe(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


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
        where = _describe(loc) or "top level"
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            hint = close_matches(key, known)
            msg = f"unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
            where = _describe(loc[:-1]) or "top level"
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
                msg += (f" — YAML reads the unquoted {raw} as {_yaml_kind(got)}; "
                        f"put it in quotes (\"{raw}\") if it is text")
        problems.append(Problem(doc.path, line, f"{where}: {msg}"))
    return problems


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
        Problem(doc.path, doc.line_of(loc), f"{_describe(loc) or 'top level'}: empty value "
                "(null); give a value, or leave the key out")
        for loc in _nulls(doc.value, ())
    ]
    if problems:
        raise FileProblems("invalid file", problems=problems)


def validate(doc: Document, model: type[M]) -> M:
    if not isinstance(doc.value, dict):
        kinds = {list: "a list", str: "text", bool: "true or false", type(None): "nothing"}
        got = kinds.get(type(doc.value), f"a {type(doc.value).__name__}")
        raise file_error(
            doc.path, doc.line_of(()), f"expected a mapping of keys (key: value), got {got}"
        )
    try:
        return model.model_validate(doc.value)
    except ValidationError as exc:
        raise FileProblems(
            "invalid file", problems=validation_problems(exc, doc, model)
        ) from None


# --- the clinical data ---------------------------------------------------------------------


class _TermsSection(_Strict):
    conditions: list[Term]
    medications: list[Term]


class ContraindicationsFile(_Strict):
    sources: dict[str, str]
    terms: _TermsSection
    rules: list[Rule]


class _Common(_Strict):
    precare: list[CareItem]
    aftercare: list[CareItem]


class ProtocolsFile(_Strict):
    ingredients: list[Term]
    common: _Common
    protocols: list[Protocol]


REQUIRED_RULES = {
    "age-under-18": "exclude",
    "age-over-75": "review",
    "pregnancy": "exclude",
    "breastfeeding": "exclude",
    "bleeding-disorder": "exclude",
    "anticoagulant": "review",
    "nsaid-washout": "defer",
    "ingredient-allergy": "exclude",
    "acute-infection": "defer",
    "liver-disease": "exclude",
    "kidney-disease": "exclude",
    "cancer": "exclude",
    "diabetes": "exclude",
    "cardiac-arrhythmia": "exclude",
    "cardiac-polypharmacy": "exclude",
    "skin-disease-at-site": "defer",
    "unrecognized-term": "review",
}
REQUIRED_PROTOCOLS = (
    "hair",
    "cellulite",
    "face-rejuvenation",
    "localized-fat",
    "pigmentation",
    "stretch-marks",
    "dark-circles",
    "pain",
    "no-needle",
)
REQUIRED_CARE = {"precare": "stop-nsaids", "aftercare": "sun"}


def packaged_data_dir() -> Path:
    """The data shipped in the wheel, or the repository's `data/` when run from source."""
    here = Path(__file__).resolve().parent
    installed = here / "data"
    return installed if installed.is_dir() else here.parent / "data"


def resolve_data_dir(option: str | None) -> Path:
    chosen = option or os.environ.get("MESO_DATA_DIR") or None
    return Path(chosen) if chosen else packaged_data_dir()


def data_version(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in DATA_FILES:
        p = directory / name
        digest.update(name.encode() + b"\0")
        if p.is_file():
            digest.update(p.read_bytes())
    return digest.hexdigest()


@cache
def load_dataset(directory: Path) -> Dataset:
    """Load, validate and cross-check a data directory; every problem names file and line."""
    if not directory.is_dir():
        raise file_error(str(directory), None, "data directory not found")
    # A clinic's copy is held against the shipped data; the shipped data needs no comparison.
    shipped = packaged_data_dir()
    compare = directory.resolve() != shipped.resolve()
    key = _cache_key(directory, shipped if compare else None)
    cached = _from_cache(key)
    if cached is not None:
        return cached
    docs: dict[str, Document] = {}
    problems: list[Problem] = []
    for name in DATA_FILES:
        path = directory / name
        try:
            docs[name] = parse(read_text(str(path)), str(path))
        except FileProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise FileProblems("invalid data", problems=problems)
    contra = _validate_part(docs["contraindications.yaml"], ContraindicationsFile, problems)
    protos = _validate_part(docs["protocols.yaml"], ProtocolsFile, problems)
    if contra is None or protos is None:
        raise FileProblems("invalid data", problems=problems)
    problems += _cross_check(contra, protos, docs)
    if compare:
        problems += against_shipped(contra, protos, docs, load_dataset(shipped))
    if problems:
        raise FileProblems("invalid data", problems=problems)
    dataset = Dataset(
        terms={
            TermKind.CONDITION: contra.terms.conditions,
            TermKind.MEDICATION: contra.terms.medications,
            TermKind.INGREDIENT: protos.ingredients,
        },
        rules=contra.rules,
        protocols=protos.protocols,
        common_precare=protos.common.precare,
        common_aftercare=protos.common.aftercare,
        version=data_version(directory),
    )
    _to_cache(key, dataset)
    return dataset


# Parsing and validating the YAML costs more than the rest of a `meso screen`, so a dataset that
# passed validation is kept, pickled, in the user's cache directory. It is used only when its key
# matches: the sha256 of the data files' bytes (and, for a clinic's copy, of the shipped data it
# was held against), of the code that defines and checks the models, and of the Python and
# pydantic versions. Any problem with the cache falls back to loading.
_CODE_FILES = ("models.py", "data.py", "matching.py", "__init__.py")


def _cache_key(directory: Path, shipped: Path | None) -> str:
    import sys

    import pydantic

    digest = hashlib.sha256(f"{sys.version}\0{pydantic.VERSION}\0".encode())
    digest.update(data_version(directory).encode())
    if shipped is not None:
        digest.update(b"\0shipped\0" + data_version(shipped).encode())
    here = Path(__file__).resolve().parent
    for name in _CODE_FILES:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()


def _cache_file(key: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "meso" / f"dataset-{key[:32]}.pickle"


def _from_cache(key: str) -> Dataset | None:
    import pickle

    try:
        stored = pickle.loads(_cache_file(key).read_bytes())
    except Exception:  # missing, unreadable, truncated or from another version: load afresh
        return None
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
        return None
    dataset = stored[1]
    return dataset if isinstance(dataset, Dataset) else None


def _to_cache(key: str, dataset: Dataset) -> None:
    import pickle

    path = _cache_file(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps((key, dataset), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home or a full disk: the next run loads the YAML again


def _validate_part(doc: Document, model: type[M], problems: list[Problem]) -> M | None:
    try:
        return validate(doc, model)
    except FileProblems as exc:
        problems.extend(exc.problems)
        return None


def _dupes(ids: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    return {i for i in ids if i in seen or seen.add(i)}  # type: ignore[func-returns-value]


def _flat_triggers(triggers: Sequence[Trigger], loc: Loc) -> Iterable[tuple[Loc, Trigger]]:
    for j, trig in enumerate(triggers):
        if isinstance(trig, AnyOf):
            yield from _flat_triggers(trig.any, loc + (j, "any"))
        else:
            yield loc + (j,), trig


def _cross_check(
    contra: ContraindicationsFile, protos: ProtocolsFile, docs: dict[str, Document]
) -> list[Problem]:
    cdoc, pdoc = docs["contraindications.yaml"], docs["protocols.yaml"]
    out: list[Problem] = []

    def bad(doc: Document, loc: Loc, msg: str) -> None:
        out.append(Problem(doc.path, doc.line_of(loc), f"{_describe(loc)}: {msg}"))

    known_sources = set(contra.sources)
    conditions = {t.id for t in contra.terms.conditions}
    medications = {t.id for t in contra.terms.medications}
    ingredients = {t.id for t in protos.ingredients}
    rules = {r.id: r for r in contra.rules}

    def check_sources(doc: Document, loc: Loc, sources: list[str]) -> None:
        for i, s in enumerate(sources):
            if s not in known_sources:
                hint = close_matches(s, known_sources)
                bad(doc, loc + ("sources", i), f"unknown source {s!r}" + (
                    f" (did you mean {hint[0]!r}?)" if hint else ""))

    for section, terms in (("conditions", contra.terms.conditions),
                           ("medications", contra.terms.medications)):
        for dup in _dupes(t.id for t in terms):
            bad(cdoc, ("terms", section), f"duplicate term id {dup!r}")
        for i, t in enumerate(terms):
            check_sources(cdoc, ("terms", section, i), t.sources)
    for dup in _dupes(r.id for r in contra.rules):
        bad(cdoc, ("rules",), f"duplicate rule id {dup!r}")
    for i, rule in enumerate(contra.rules):
        loc: Loc = ("rules", i)
        check_sources(cdoc, loc, rule.sources)
        for tloc, trig in _flat_triggers(rule.when, loc + ("when",)):
            ids, known, kind = [], set(), ""
            if isinstance(trig, HasCondition):
                ids, known, kind = trig.conditions, conditions, "condition"
            elif isinstance(trig, TakesMedication):
                ids, known, kind = trig.medications, medications, "medication"
            for k, term in enumerate(ids):
                if term not in known:
                    hint = close_matches(term, known)
                    bad(cdoc, tloc + (kind + "s", k), f"no {kind} term {term!r}" + (
                        f" (did you mean {hint[0]!r}?)" if hint else ""))
    for rid, action in REQUIRED_RULES.items():
        if rid not in rules:
            bad(cdoc, ("rules",), f"required rule {rid!r} is missing")
        elif rules[rid].action.value not in (action, "exclude"):
            # Not an order: a review can be cleared and a deferral ends by itself, so neither
            # may stand in for the other. Only exclude is stricter than both.
            idx = list(rules).index(rid)
            bad(cdoc, ("rules", idx, "action"),
                f"rule {rid!r} must stay {action!r} (or become 'exclude'), not "
                f"{rules[rid].action.value!r}")

    for dup in _dupes(t.id for t in protos.ingredients):
        bad(pdoc, ("ingredients",), f"duplicate ingredient id {dup!r}")
    for i, t in enumerate(protos.ingredients):
        check_sources(pdoc, ("ingredients", i), t.sources)
    for section in ("precare", "aftercare"):
        items: list[CareItem] = getattr(protos.common, section)
        for i, item in enumerate(items):
            check_sources(pdoc, ("common", section, i), item.sources)
            if item.rule is not None and item.rule not in rules:
                bad(pdoc, ("common", section, i, "rule"), f"no rule {item.rule!r}")
        if REQUIRED_CARE[section] not in {c.id for c in items}:
            bad(pdoc, ("common", section), f"item {REQUIRED_CARE[section]!r} is missing")
    for dup in _dupes(p.id for p in protos.protocols):
        bad(pdoc, ("protocols",), f"duplicate protocol id {dup!r}")
    present = {p.id for p in protos.protocols}
    for pid in REQUIRED_PROTOCOLS:
        if pid not in present:
            bad(pdoc, ("protocols",), f"required protocol {pid!r} is missing")
    for i, proto in enumerate(protos.protocols):
        loc = ("protocols", i)
        check_sources(pdoc, loc, proto.sources)
        for k, ing in enumerate(proto.ingredients):
            if ing not in ingredients:
                hint = close_matches(ing, ingredients)
                bad(pdoc, loc + ("ingredients", k), f"no ingredient {ing!r}" + (
                    f" (did you mean {hint[0]!r}?)" if hint else ""))
        for k, rid in enumerate(proto.exempt_rules):
            if rid not in rules:
                hint = close_matches(rid, rules)
                bad(pdoc, loc + ("exempt_rules", k), f"no rule {rid!r}" + (
                    f" (did you mean {hint[0]!r}?)" if hint else ""))
        for dup in _dupes(ph.id for ph in proto.phases):
            bad(pdoc, loc + ("phases",), f"duplicate phase id {dup!r}")
        for k, phase in enumerate(proto.phases):
            check_sources(pdoc, loc + ("phases", k), phase.sources)
            for dup in _dupes(str(c.per_week) for c in phase.per_week):
                bad(pdoc, loc + ("phases", k, "per_week"), f"per_week {dup} listed twice")
        if not proto.course_phases():
            bad(pdoc, loc + ("phases",), "needs at least one phase that is not maintenance")
        for section in ("precare", "aftercare"):
            for k, item in enumerate(getattr(proto, section)):
                check_sources(pdoc, loc + (section, k), item.sources)
                if item.rule is not None and item.rule not in rules:
                    bad(pdoc, loc + (section, k, "rule"), f"no rule {item.rule!r}")
    return out


# --- a clinic's copy against the shipped data ----------------------------------------------


def against_shipped(
    contra: ContraindicationsFile,
    protos: ProtocolsFile,
    docs: dict[str, Document],
    shipped: Dataset,
) -> list[Problem]:
    """Everything in a clinic's copy that would screen less strictly than the shipped data.

    Stricter is always allowed. What "no weaker" means, part by part:

    - a required rule fires at least wherever the shipped rule fires (`_trigger_gaps`);
    - every shipped term keeps its id and all its names, and every name in the copy is read
      as at least the terms the shipped data reads it as (`_term_gaps`, `_reading_gaps`);
    - a shipped protocol is exempt from no shipped rule it was not exempt from, and lists
      every shipped ingredient (`_protocol_gaps`);
    - the required care items keep their durations, no shorter (`_care_gaps`).
    """
    cdoc, pdoc = docs["contraindications.yaml"], docs["protocols.yaml"]
    found = [
        *_rule_gaps(contra, cdoc, shipped),
        *_term_gaps(contra, protos, docs, shipped),
        *_protocol_gaps(protos, pdoc, shipped),
        *_care_gaps(contra, protos, pdoc, shipped),
    ]
    # A medication's name is read in two vocabularies (medications, allergies): say it once.
    return list({str(p): p for p in found}.values())


def _problem(doc: Document, loc: Loc, msg: str) -> Problem:
    return Problem(doc.path, doc.line_of(loc), f"{_describe(loc)}: {msg}")


def _show(trigger: Trigger) -> str:
    """A trigger as it is written in the file, on one line: `age_below: 18`."""
    if isinstance(trigger, AnyOf):
        return "any: [" + "; ".join(_show(t) for t in trigger.any) + "]"
    parts = []
    for key, value in trigger.model_dump(exclude_none=True).items():
        shown = f"[{', '.join(value)}]" if isinstance(value, list) else str(value).lower()
        parts.append(f"{key}: {shown}")
    return ", ".join(parts)


def _listed(ids: Iterable[str]) -> str:
    return ", ".join(repr(i) for i in ids) or "none"


def _rule_gaps(contra: ContraindicationsFile, doc: Document, shipped: Dataset) -> list[Problem]:
    out = []
    for i, rule in enumerate(contra.rules):
        before = shipped.rule(rule.id)
        if rule.id not in REQUIRED_RULES or before is None:
            continue
        for j, trigger in enumerate(rule.when):
            for loc, msg in _conjunct_gaps(trigger, before.when, ("rules", i, "when", j)):
                out.append(_problem(doc, loc, f"rule {rule.id!r}: {msg}"))
    return out


def _conjunct_gaps(trigger: Trigger, shipped: list[Trigger], loc: Loc) -> list[tuple[Loc, str]]:
    """`when` is a conjunction, so the copy's rule fires wherever the shipped one does when
    each of its triggers covers some shipped trigger. Leaving a trigger out only widens the
    rule; adding one narrows it, and is reported."""
    tries = [_trigger_gaps(trigger, s, loc) for s in shipped]
    if any(not gaps for gaps in tries):
        return []
    akin = [gaps for gaps, s in zip(tries, shipped, strict=True) if _akin(trigger, s)]
    if akin:
        return akin[0]
    was = "; ".join(_show(s) for s in shipped)
    return [(loc, f"{_show(trigger)} is an added condition that must also hold, so the rule "
                  f"fires less often; the shipped rule has {was}")]


def _akin(a: Trigger, b: Trigger) -> bool:
    """Of one kind, or one an `any:` with an option of the other's kind: the trigger to
    compare with when none covers it, so that the message names the limit that was weakened."""
    return type(a) is type(b) or bool(_kinds(a) & _kinds(b))


def _kinds(trigger: Trigger) -> set[type]:
    return {type(t) for t in trigger.any} if isinstance(trigger, AnyOf) else {type(trigger)}


def _trigger_gaps(mine: Trigger, shipped: Trigger, loc: Loc) -> list[tuple[Loc, str]]:
    """Where `mine` fails to fire although `shipped` fires, compared structurally.

    A shipped `any:` is covered when each of its options is covered; `mine` as an `any:` covers
    a trigger when one of its options does (so options may be added, never taken away). Two
    plain triggers must be of one kind with limits no weaker (`_limit_gaps`).
    """
    if isinstance(shipped, AnyOf):
        return [gap for option in shipped.any for gap in _trigger_gaps(mine, option, loc)]
    if isinstance(mine, AnyOf):
        tries = [_trigger_gaps(o, shipped, loc + ("any", k)) for k, o in enumerate(mine.any)]
        if any(not gaps for gaps in tries):
            return []
        same = [gaps for gaps, o in zip(tries, mine.any, strict=True) if type(o) is type(shipped)]
        return same[0] if same else [
            (loc + ("any",), f"no option fires where the shipped {_show(shipped)} does")
        ]
    if type(mine) is not type(shipped):
        return [(loc, f"{_show(mine)} does not fire where the shipped {_show(shipped)} does")]
    return [(loc + (key,), msg) for key, msg in _limit_gaps(mine, shipped)]


def _limit_gaps(mine: Trigger, shipped: Trigger) -> list[tuple[str, str]]:
    """Each key of two triggers of one kind where `mine` is weaker, and what shipped has."""
    if isinstance(mine, AgeBelow) and isinstance(shipped, AgeBelow):
        if mine.age_below < shipped.age_below:
            return [("age_below", f"age_below: {mine.age_below} lets younger patients through; "
                                  f"the shipped data has age_below: {shipped.age_below}")]
    elif isinstance(mine, AgeAbove) and isinstance(shipped, AgeAbove):
        if mine.age_above > shipped.age_above:
            return [("age_above", f"age_above: {mine.age_above} lets older patients through; "
                                  f"the shipped data has age_above: {shipped.age_above}")]
    elif isinstance(mine, Flag) and isinstance(shipped, Flag):
        if mine.flag != shipped.flag:
            return [("flag", f"flag: {mine.flag} fires on another flag; "
                             f"the shipped data has flag: {shipped.flag}")]
    elif isinstance(mine, HasCondition) and isinstance(shipped, HasCondition):
        return _ids_gap("conditions", mine.conditions, shipped.conditions)
    elif isinstance(mine, TakesMedication) and isinstance(shipped, TakesMedication):
        return [*_ids_gap("medications", mine.medications, shipped.medications),
                *_washout_gap(mine.washout_days, shipped.washout_days)]
    elif isinstance(mine, MedicationCount) and isinstance(shipped, MedicationCount):
        n, was = mine.medication_count_at_least, shipped.medication_count_at_least
        if n > was:
            return [("medication_count_at_least", f"medication_count_at_least: {n} needs more "
                     f"medications; the shipped data has medication_count_at_least: {was}")]
    return []  # ingredient_allergy and unrecognized_term have no limit to weaken


def _ids_gap(key: str, mine: list[str], shipped: list[str]) -> list[tuple[str, str]]:
    missing = [i for i in shipped if i not in mine]
    if not missing:
        return []
    return [(key, f"{key} leaves out {_listed(missing)}; "
                  f"the shipped data has {key}: [{', '.join(shipped)}]")]


def _washout_gap(mine: int | None, shipped: int | None) -> list[tuple[str, str]]:
    # No washout at all is the strictest: the rule fires whenever the medication is listed.
    if mine is None or (shipped is not None and mine >= shipped):
        return []
    was = f"washout_days: {shipped}" if shipped else "no washout_days (it fires on any dose)"
    return [("washout_days", f"washout_days: {mine} ends the wait sooner; the shipped data has "
                             f"{was}")]


# Where each kind of term lives in the files.
_TERM_PLACES: dict[TermKind, tuple[str, Loc]] = {
    TermKind.CONDITION: ("contraindications.yaml", ("terms", "conditions")),
    TermKind.MEDICATION: ("contraindications.yaml", ("terms", "medications")),
    TermKind.INGREDIENT: ("protocols.yaml", ("ingredients",)),
}
_Placed = tuple[Term, Document, Loc]


def _name_key(name: str) -> str:
    from meso_cli.matching import tokens

    return "".join(tokens(name))


def _term_gaps(
    contra: ContraindicationsFile,
    protos: ProtocolsFile,
    docs: dict[str, Document],
    shipped: Dataset,
) -> list[Problem]:
    lists = {
        TermKind.CONDITION: contra.terms.conditions,
        TermKind.MEDICATION: contra.terms.medications,
        TermKind.INGREDIENT: protos.ingredients,
    }
    placed: dict[TermKind, list[_Placed]] = {}
    out: list[Problem] = []
    for kind, terms in lists.items():
        name, section = _TERM_PLACES[kind]
        placed[kind] = [(t, docs[name], section + (i,)) for i, t in enumerate(terms)]
        out += _names_kept(placed[kind], shipped.terms[kind], docs[name], section)
    # The vocabularies screening reads names with (matching.vocabularies): allergies are read
    # against the ingredients first, then the medications.
    meds, ings = TermKind.MEDICATION, TermKind.INGREDIENT
    # The terms a rule can fire on: conditions and medications its triggers name; for
    # allergies, the ingredients (the allergy rule reads them).
    used = _rule_terms(contra.rules) | _rule_terms(shipped.rules)
    ingredients = {t.id for t in protos.ingredients} | {t.id for t in shipped.terms[ings]}
    out += _reading_gaps(placed[TermKind.CONDITION], shipped.terms[TermKind.CONDITION], used)
    out += _reading_gaps(placed[meds], shipped.terms[meds], used)
    # A new medicine's name is judged in the medications above; here only the ingredients
    # an allergy must still find.
    out += _reading_gaps([*placed[ings], *placed[meds]], [*shipped.terms[ings],
                                                          *shipped.terms[meds]], ingredients,
                         new_names=False)
    return out


def _rule_terms(rules: Iterable[Rule]) -> set[str]:
    found: set[str] = set()
    for rule in rules:
        for _, trig in _flat_triggers(rule.when, ()):
            if isinstance(trig, HasCondition):
                found.update(trig.conditions)
            elif isinstance(trig, TakesMedication):
                found.update(trig.medications)
    return found


def _names_kept(
    placed: list[_Placed], shipped: list[Term], doc: Document, section: Loc
) -> list[Problem]:
    """Every shipped term is still there, under its id, with all its names."""
    mine = {term.id: (term, loc) for term, _, loc in reversed(placed)}  # the first of an id
    out = []
    for was in shipped:
        if was.id not in mine:
            out.append(_problem(doc, section, f"term {was.id!r} is missing; the shipped data "
                                              f"has it, named {', '.join(was.names)}"))
            continue
        term, loc = mine[was.id]
        have = {_name_key(n) for n in term.names}
        lost = [n for n in was.names if _name_key(n) not in have]
        if lost:
            out.append(_problem(doc, loc + ("names",), f"term {was.id!r} leaves out "
                                f"{_listed(lost)}; the shipped data has names: "
                                f"[{', '.join(was.names)}]"))
    return out


def _reading_gaps(
    placed: list[_Placed], shipped: list[Term], used: set[str], *, new_names: bool = True
) -> list[Problem]:
    """Every name in the copy still finds the terms a rule uses (`used`) that the shipped data
    finds in it: another term that claims 'ibuprofen' first, or a longer name that swallows
    'liver disease', is refused. And a name the shipped data does not know (an
    unrecognized-term review there) may only go on a term a rule uses: on a harmless term it
    would turn that review into eligible."""
    from meso_cli.matching import Vocabulary

    before, after = Vocabulary.of(shipped), Vocabulary.of(t for t, _, _ in placed)
    out = []
    for term, doc, loc in placed:
        for n, name in enumerate(term.names):
            key = _name_key(name)
            owner = after.index.get(key)
            if owner is None or owner.term != term.id:
                continue  # a name an earlier term already holds; that term is checked instead
            known, rest = before.read(name)
            was = {m.term: None for m in known}
            now = {m.term: None for m in after.match(name)}
            lost = [t for t in was if t in used and t not in now]
            if lost:
                why = ("the first term to list a name keeps it" if key in before.index
                       else "a longer name hides the names inside it")
                out.append(_problem(doc, loc + ("names", n), f"{name!r} is read as "
                                    f"{_listed(now)} ({why}); the shipped data reads it as "
                                    f"{_listed(was)}"))
            elif new_names and (not known or rest) and not any(t in used for t in now):
                out.append(_problem(doc, loc + ("names", n), f"{name!r} is not known to the "
                                    f"shipped data, which asks for review of it; on term "
                                    f"{term.id!r}, which no rule uses, it would pass unseen: "
                                    "add it to a term a rule uses, or leave it out"))
    return out


def _protocol_gaps(protos: ProtocolsFile, doc: Document, shipped: Dataset) -> list[Problem]:
    """A shipped protocol gains no exemption from a shipped rule and loses no ingredient.
    Exempting it from a rule the clinic added itself is allowed: that rule is extra."""
    shipped_rules = {r.id for r in shipped.rules}
    out = []
    for i, proto in enumerate(protos.protocols):
        was = shipped.protocol(proto.id)
        if was is None:
            continue
        loc: Loc = ("protocols", i)
        for k, rid in enumerate(proto.exempt_rules):
            if rid in shipped_rules and rid not in was.exempt_rules:
                out.append(_problem(doc, loc + ("exempt_rules", k), f"protocol {proto.id!r} "
                                    f"may not be exempt from rule {rid!r}; the shipped data "
                                    f"exempts it from {_listed(was.exempt_rules)}"))
        lost = [x for x in was.ingredients if x not in proto.ingredients]
        if lost:
            out.append(_problem(doc, loc + ("ingredients",), f"protocol {proto.id!r} leaves "
                                f"out {_listed(lost)}, so an allergy to these goes unseen; the "
                                f"shipped data has ingredients: [{', '.join(was.ingredients)}]"))
    return out


_DURATIONS = ("days_before_first", "days_after_each", "hours_after_each", "days_after_last")


def _care_gaps(
    contra: ContraindicationsFile, protos: ProtocolsFile, doc: Document, shipped: Dataset
) -> list[Problem]:
    """The required care items keep every shipped duration, no shorter, and serve no rule
    the shipped item does not (a protocol exempt from that rule would drop the item)."""
    out = []
    for section, cid in REQUIRED_CARE.items():
        before = getattr(shipped, f"common_{section}")
        was = next((c for c in before if c.id == cid), None)
        items: list[CareItem] = getattr(protos.common, section)
        k = next((k for k, c in enumerate(items) if c.id == cid), None)
        if was is None or k is None:
            continue
        item, loc = items[k], ("common", section, k)
        if item.rule is not None and item.rule != was.rule:
            shown = f"rule: {was.rule}" if was.rule else "no rule"
            out.append(_problem(doc, loc + ("rule",), f"item {cid!r} would be dropped wherever "
                                f"rule {item.rule!r} is exempt; the shipped item has {shown}"))
        for key in _DURATIONS:
            want = _care_duration(was, key, shipped.rules)
            have = _care_duration(item, key, contra.rules)
            if want is not None and (have is None or have < want):
                at = loc + (key,) if getattr(item, key) is not None else loc
                got = f"{key}: {have}, shorter than shipped" if have is not None else f"no {key}"
                out.append(_problem(doc, at, f"item {cid!r} has {got}; the shipped data has "
                                             f"{key}: {want}{_from_rule(was, key)}"))
    return out


def _from_rule(item: CareItem, key: str) -> str:
    if getattr(item, key) is None and item.rule is not None:
        return f" (the washout of rule {item.rule!r})"
    return ""


def _care_duration(item: CareItem, key: str, rules: list[Rule]) -> int | None:
    """A duration as planning uses it: days before the first session default to the washout
    of the rule the item serves (stop NSAIDs as long as the NSAID rule defers)."""
    value: int | None = getattr(item, key)
    if value is not None or key != "days_before_first" or item.rule is None:
        return value
    rule = next((r for r in rules if r.id == item.rule), None)
    washouts = [
        t.washout_days
        for _, t in _flat_triggers(rule.when if rule else [], ())
        if isinstance(t, TakesMedication) and t.washout_days
    ]
    return washouts[0] if washouts else None
