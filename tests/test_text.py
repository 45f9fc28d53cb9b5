"""The characters refused where text comes in are the ones escaped where it goes out."""

from __future__ import annotations

import pytest

from meso_cli.text import printable, printable_line, unsafe_character

REFUSED = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]] + [
    chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
]


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_each_refused_character_is_named_and_never_printed(char: str) -> None:
    text = f"P-{char}1"
    assert unsafe_character(text) is not None
    assert f"U+{ord(char):04X}" in (unsafe_character(text) or "")
    assert char not in printable(text) and char not in printable_line(text)
    assert f"\\u{ord(char):04x}" in printable(text)


def test_ordinary_text_passes_as_it_is() -> None:
    for text in ("Ayşe Yılmaz", "P-0042", "İbuprofen 200 mg", "中文", "café"):
        assert unsafe_character(text) is None
        assert printable(text) == text == printable_line(text)


def test_tab_and_line_breaks_are_refused_in_one_line_only() -> None:
    assert unsafe_character("a\tb") == "tab U+0009"
    assert unsafe_character("a\nb") == "line break U+000A"
    assert unsafe_character("a\nb", single_line=False) is None
    assert printable("a\nb") == "a\nb"
    assert printable_line("a\nb") == "a\\u000ab"
