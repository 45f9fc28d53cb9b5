"""Writing to the practitioner's own patient file: a session given, a review cleared.

The file stays as it was written. YAML is edited with ruamel.yaml's round-trip mode, which
keeps comments, key order, quoting and layout, so that only the new lines differ (imported
here only, by the commands that edit); JSON is edited as JSON. The edited text is read back
with the tool's own strict reader before it is written, it is written atomically, and a file
that changed on disk since it was read is refused.
"""

from __future__ import annotations

import copy
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from meso_cli.errors import MesoError
from meso_cli.files import read_bytes, write_atomic
from meso_cli.models import Clearance, Patient
from meso_cli.patients import patient_from_text

_BOM = b"\xef\xbb\xbf"
_CLEARANCE_KEYS = ("rule", "matched", "by", "on", "reason")


@dataclass(frozen=True)
class Record:
    """A patient file as read: its bytes (to notice a change on disk), its text without a
    byte-order mark or CR line ends, and the patient in it."""

    path: str
    raw: bytes
    text: str
    patient: Patient

    @property
    def is_json(self) -> bool:
        return self.path.lower().endswith(".json") or self.text.lstrip().startswith("{")


def open_record(path: str, *, on: date) -> Record:
    """The patient file at `path`, read for the reference date `on` as every command reads it."""
    if path == "-":
        raise MesoError("a patient file is needed to record in; standard input cannot be edited")
    from meso_cli.files import decode

    raw = read_bytes(path)
    text = decode(raw, path).replace("\r\n", "\n")
    return Record(path, raw, text, patient_from_text(text, path, on=on))


def with_session(record: Record, day: date) -> str:
    """The file's text with `day` added to sessions_done, in date order."""
    if record.is_json:
        data = _json_load(record.text)
        done = data.setdefault("sessions_done", [])
        done.insert(_position(done, day), day.isoformat())
        return _json_dump(data, record.text)
    return _yaml_edit(record.text, lambda doc: _add_session(doc, day))


def with_clearances(record: Record, cleared: list[Clearance]) -> str:
    """The file's text with each clearance added at the end of `clearances`."""
    entries = [c.model_dump(mode="json", exclude_none=True) for c in cleared]
    if record.is_json:
        data = _json_load(record.text)
        data.setdefault("clearances", []).extend(
            {k: e[k] for k in _CLEARANCE_KEYS if k in e} for e in entries
        )
        return _json_dump(data, record.text)
    return _yaml_edit(record.text, lambda doc: _add_clearances(doc, cleared))


def save(record: Record, text: str, expected: Patient, *, on: date) -> list[int]:
    """Write the edited text over the file, after checking that it reads back as `expected`
    and that the file on disk is still the one read. Returns the numbers of the lines of the
    old file that did not survive unchanged (none, unless the YAML writer had to re-lay one
    out: a flow list `[a, b]` that grew is one)."""
    read_back = patient_from_text(text, record.path, on=on)
    if read_back != expected:
        raise MesoError(f"{record.path}: the edit would not read back as intended; nothing written")
    try:
        now = read_bytes(record.path)
    except MesoError:
        now = b""
    if now != record.raw:
        raise MesoError(
            f"{record.path} changed on disk since it was read; nothing written. Run the "
            "command again on the file as it is now."
        )
    out = text.replace("\n", "\r\n") if b"\r\n" in record.raw else text
    payload = (_BOM if record.raw.startswith(_BOM) else b"") + out.encode("utf-8")
    write_atomic(record.path, payload)
    return _changed_lines(record.text, text)


def _position(done: list[Any], day: date) -> int:
    """Where `day` goes in a date-ordered list of dates (or YYYY-MM-DD strings)."""
    keys = [d if isinstance(d, date) else date.fromisoformat(str(d)) for d in done]
    return sum(1 for k in keys if k < day)


def _changed_lines(old: str, new: str) -> list[int]:
    import difflib

    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    return [
        i + 1
        for tag, a0, a1, _, _ in matcher.get_opcodes()
        if tag in ("replace", "delete")
        for i in range(a0, a1)
    ]


# --- JSON -----------------------------------------------------------------------------------


def _json_load(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)  # the reader has already refused anything else
    return value


def _json_dump(data: dict[str, Any], old: str) -> str:
    """JSON indented as the file was (or on one line, if it was), with a final newline if it
    had one."""
    body = old.strip()
    match = re.search(r"\n([ \t]+)\"", body)
    if "\n" not in body:
        text = json.dumps(data, ensure_ascii=False)
    else:
        indent: str | int = match.group(1) if match else 2
        text = json.dumps(data, ensure_ascii=False, indent=indent)
    return text + ("\n" if old.endswith("\n") else "")


# --- YAML -----------------------------------------------------------------------------------


def _tail(text: str) -> int:
    """Where the lines at the end of the text that hold only comments or nothing begin:
    ruamel.yaml would keep them after the last value, where a new key or list item would
    then be added after them."""
    lines = text.splitlines(keepends=True)
    start = len(text)
    for line in reversed(lines):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        start -= len(line)
    return start


def _yaml_edit(text: str, change: Any) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    body = text if text.endswith("\n") else text + "\n"
    cut = _tail(body)
    body, tail = (body[:cut], body[cut:]) if cut > 0 else (body, "")
    _, indent, offset = load_yaml_guess_indent(body)
    # Round-trip mode builds plain values with their comments, never an object a file names;
    # the text has already passed the strict reader (no tags, no aliases) in open_record.
    editor = YAML(typ="rt")
    editor.preserve_quotes = True
    editor.width = 4096  # never fold a long line the practitioner wrote on one
    # A file with no block list yet gets them as the examples write them: "  - item".
    offset = 2 if offset is None else offset
    indent = indent or offset + 2
    editor.indent(mapping=max(2, indent - offset), sequence=indent, offset=offset)
    doc = editor.load(body)
    change(doc)
    stream = io.StringIO()
    editor.dump(doc, stream)
    out = stream.getvalue() + tail
    return out if text.endswith("\n") else out.rstrip("\n")


def _append(seq: Any, value: Any, index: int | None = None) -> None:
    """Add to a ruamel list; comment lines that followed the old last item stay after the
    list, not between the old last item and the new one."""
    index = len(seq) if index is None else index
    last = len(seq) - 1
    if index == len(seq) and last >= 0 and last in seq.ca.items:
        token = seq.ca.items[last][0]
        if token is not None and "\n" in token.value.rstrip("\n"):
            own, _, after = token.value.partition("\n")
            moved = copy.copy(token)
            moved.value = "\n" + after
            if own.strip():
                token.value = own + "\n"
            else:
                seq.ca.items[last][0] = None
            seq.append(value)
            seq.ca.items[len(seq) - 1] = [moved, None, None, None]
            return
    seq.insert(index, value)


def _add_session(doc: Any, day: date) -> None:
    from ruamel.yaml.comments import CommentedSeq

    done = doc.get("sessions_done")
    if done is None:
        doc["sessions_done"] = CommentedSeq([day])
        return
    _append(done, day, _position(list(done), day))


def _add_clearances(doc: Any, cleared: list[Clearance]) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    entries = doc.get("clearances")
    if entries is None:
        entries = doc["clearances"] = CommentedSeq()
    for c in cleared:
        entry = CommentedMap()
        for key in _CLEARANCE_KEYS:
            value = getattr(c, key)
            if value is None:
                continue
            # `on` unquoted is a yes/no value to a YAML 1.1 reader (this tool's, PyYAML).
            name = DoubleQuotedScalarString(key) if _needs_quotes(key) else key
            entry[name] = _text(value) if isinstance(value, str) else value
        _append(entries, entry)


def _needs_quotes(text: str) -> bool:
    """Whether a YAML 1.1 reader would take `text`, written plain, for something other than
    text (yes, no, on, off, a number, a date, null)."""
    import yaml

    tag = yaml.resolver.Resolver().resolve(  # type: ignore[no-untyped-call]
        yaml.ScalarNode, text, (True, False)
    )
    return bool(tag != "tag:yaml.org,2002:str")


def _text(value: str) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(value) if _needs_quotes(value) else value


# --- a new patient file (--save) -------------------------------------------------------------


def save_new_patient(
    path: str, patient: Patient, *, read_from: str | None, force: bool = False
) -> None:
    """Write `patient` to a new file at `path`: JSON for a .json name, else YAML laid out as
    the examples are. An existing file is replaced only with `force`, and never the file the
    patient was read from (its comments and layout would be lost: `meso session add` and
    `meso clear` edit it in place)."""
    from pathlib import Path

    from meso_cli.files import write_new

    if path in ("", "-"):
        raise MesoError(f"--save {path!r}: give a file name (a patient file, not a stream)")
    target = Path(path)
    if read_from not in (None, "-") and target.exists() and target.samefile(str(read_from)):
        raise MesoError(
            f"--save {path}: that is the file the patient was read from; save to another file"
        )
    text = patient_text(patient, json_file=path.lower().endswith(".json"))
    if patient_from_text(text, path) != patient:
        raise MesoError(f"--save {path}: the file would not read back as intended; not written")
    if force:
        write_atomic(path, text)
    else:
        if target.exists() or target.is_symlink():
            raise MesoError(f"--save {path}: the file exists; add --force to replace it")
        write_new(path, text)


def patient_text(patient: Patient, *, json_file: bool) -> str:
    """A patient file's text: every field given, in the model's order; JSON, or YAML with
    lists one item a line, dated entries as {name: ..., last_dose: ...} and clearances as
    blocks."""
    mode = "json" if json_file else "python"
    data = patient.model_dump(mode=mode, by_alias=True, exclude_none=True)
    for key in ("conditions", "medications"):
        data[key] = [e["name"] if list(e) == ["name"] else e for e in data.get(key, [])]
    data = {k: v for k, v in data.items() if v != []}
    if json_file:
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    def mapping(entry: dict[str, Any], *, flow: bool) -> CommentedMap:
        out = CommentedMap()
        for k, v in entry.items():
            out[DoubleQuotedScalarString(k) if _needs_quotes(k) else k] = scalar(v)
        if flow:
            out.fa.set_flow_style()
        return out

    def scalar(value: Any) -> Any:
        return _text(value) if isinstance(value, str) else value

    doc = CommentedMap()
    for key, value in data.items():
        if isinstance(value, list):
            doc[key] = CommentedSeq(
                mapping(v, flow=key != "clearances") if isinstance(v, dict) else scalar(v)
                for v in value
            )
        else:
            doc[key] = scalar(value)
    writer = YAML(typ="rt")
    writer.width = 4096
    writer.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    writer.dump(doc, stream)
    return stream.getvalue()
