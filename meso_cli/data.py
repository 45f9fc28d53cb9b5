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
    AnyOf,
    CareItem,
    Dataset,
    HasCondition,
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
        return file_error(path, at, f"invalid YAML: {exc.problem or exc.context}")
    return file_error(path, None, f"invalid YAML: {exc}")


def _mark_line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _precheck_yaml(text: str, path: str) -> None:
    """Walk the event stream first: libyaml's composer recurses in C and a file of 100,000
    `[` would crash it, and an alias bomb should be refused before anything is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise file_error(path, _mark_line(event.start_mark),
                             "YAML aliases (*name) are not allowed; write the value out")
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
_STRENGTH = {"defer": 0, "review": 1, "exclude": 2}


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
    key = _cache_key(directory)
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
# matches: the sha256 of the data files' bytes, of the code that defines and checks the models,
# and of the Python and pydantic versions. Any problem with the cache falls back to loading.
_CODE_FILES = ("models.py", "data.py", "__init__.py")


def _cache_key(directory: Path) -> str:
    import sys

    import pydantic

    digest = hashlib.sha256(f"{sys.version}\0{pydantic.VERSION}\0".encode())
    digest.update(data_version(directory).encode())
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
        elif _STRENGTH[rules[rid].action.value] < _STRENGTH[action]:
            idx = list(rules).index(rid)
            bad(cdoc, ("rules", idx, "action"),
                f"rule {rid!r} must be at least as strict as {action!r}")

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
