"""Characters that must never reach a person's screen or page raw: refused where text comes
in (`unsafe_character`), and shown as a visible escape wherever text goes out (`printable`).

Control characters can move a terminal's cursor, erase lines, set colours or a window title;
bidirectional controls make "P-\u202eELBIGILE" read as "P-ELIGIBLE". Both are refused in every
name, id and data text at input; any that reach an output all the same (an argument, a data
copy) are shown as `\\u001b`, never sent as they are.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _name(char: str) -> str:
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"bidirectional control U+{ord(char):04X}"
    if char in "\t\n\r":
        what = {"\t": "tab", "\n": "line break", "\r": "carriage return"}[char]
        return f"{what} U+{ord(char):04X}"
    return f"control character U+{ord(char):04X}"


def unsafe_character(text: str, *, single_line: bool = True) -> str | None:
    """What is wrong with `text`, naming the first refused character
    (`control character U+001B`), or None. A single-line field (a name, an id) also refuses
    tab and line breaks."""
    found = (_UNSAFE_OR_BREAK if single_line else _UNSAFE).search(text)
    return None if found is None else _name(found.group())


def printable(text: str) -> str:
    """`text` with every refused character shown as a visible `\\uXXXX` escape."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def printable_line(text: str) -> str:
    """As `printable`, and tab and line breaks escaped too: for one line of output."""
    return _UNSAFE_OR_BREAK.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
