"""The one sanitiser: every control, escape and invisible character becomes visible text."""

from __future__ import annotations

import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from deskterm.domain.sanitize import _FORMAT_RANGES, clean_line, clean_text, is_clean


def test_format_ranges_match_this_pythons_unicode_data() -> None:
    listed = {cp for first, last in _FORMAT_RANGES for cp in range(first, last + 1)} | {0x00AD}
    actual = {cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"}
    assert actual <= listed, f"missing format characters: {sorted(hex(c) for c in actual - listed)[:10]}"


def test_escape_sequences_become_visible_literal_text() -> None:
    assert clean_text("a\x1b[2Jb") == "a␛[2Jb"
    assert clean_text("\x1b]8;;https://x\x07L\x1b]8;;\x07") == "␛]8;;https://x␇L␛]8;;␇"
    assert clean_text("\x9b31m") == "⟨U+009B⟩31m"
    assert clean_text("pay\u202efdp.exe") == "pay⟨U+202E⟩fdp.exe"
    assert clean_text("a\u200bb") == "a⟨U+200B⟩b"


def test_line_endings_tabs_and_soft_hyphens() -> None:
    assert clean_text("a\r\nb\rc\u2028d") == "a\nb\nc\nd"
    assert clean_text("a\tb") == "a    b"
    assert clean_line("Liefer\u00adung\nam\tMontag") == "Lieferung am Montag"


def test_markup_is_left_literal() -> None:
    assert clean_line("[bold]x[/] [/ [@click=app.quit]y[/]") == "[bold]x[/] [/ [@click=app.quit]y[/]"


def test_long_text_is_capped() -> None:
    assert len(clean_text("x" * 1_000_000)) < 100_100
    assert clean_line("y" * 5000).endswith("…")


@given(st.text())
def test_output_never_contains_controls_or_invisibles(value: str) -> None:
    text = clean_text(value)
    assert is_clean(text)
    assert all(unicodedata.category(ch) not in ("Cc", "Cf") or ch == "\n" for ch in text)
    line = clean_line(value)
    assert "\n" not in line and all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in line)
