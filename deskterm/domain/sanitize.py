"""The one sanitiser for untrusted text (buyers, mails, marketplace and Meta APIs).

Rich and Textual pass ESC, C1 bytes and bidi controls straight to the terminal, so every
widget that shows external text calls `clean_text` or `clean_line` first and renders the
result as plain `Text`/`Content` (never as markup). The rules:

* C0 controls (except newline) and DEL become their visible Control Pictures (ESC -> "␛"),
  so an escape sequence shows up as harmless literal text such as "␛[2J" and can never
  reach the terminal as a control sequence.
* C1 controls (U+0080-U+009F, the 8-bit forms of CSI, OSC, DCS...) become "⟨U+009B⟩".
* Bidi overrides/isolates/marks, zero-width and other invisible format characters become
  "⟨U+202E⟩"-style markers, so Trojan-source tricks are visible. Soft hyphens are dropped.
* CR LF and lone CR become LF; U+2028/U+2029 become LF; tabs become spaces.
* Text is capped so a pathological 1 MB line cannot stall rendering.

Markup is not touched here: text stays literal because it is rendered as `Text`/`Content`.
"""

from __future__ import annotations

# Unicode general category Cf (format characters), Unicode 14/15. tests/test_sanitize.py
# checks this list against the running interpreter's unicodedata.
_FORMAT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)

SOFT_HYPHEN = 0x00AD
TAB_WIDTH = 4
MAX_TEXT_CHARS = 100_000
MAX_LINE_CHARS = 400
TRUNCATION_NOTE = "\n⟨… text shortened for display …⟩"


def _marker(codepoint: int) -> str:
    return f"⟨U+{codepoint:04X}⟩"


def _build_table(*, single_line: bool) -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in range(0x20):
        table[code] = chr(0x2400 + code)  # ␀ .. ␟, ESC -> ␛
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        table[code] = _marker(code)
    for first, last in _FORMAT_RANGES:
        for code in range(first, last + 1):
            table[code] = _marker(code)
    table[SOFT_HYPHEN] = None
    table[ord("\t")] = " " if single_line else " " * TAB_WIDTH
    line_break = " " if single_line else "\n"
    table[ord("\n")] = line_break
    table[0x2028] = line_break
    table[0x2029] = line_break
    return table


_TEXT_TABLE = _build_table(single_line=False)
_LINE_TABLE = _build_table(single_line=True)


def clean_text(value: str | None, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Make multi-line untrusted text safe to display: visible controls, LF line ends."""
    if not value:
        return ""
    truncated = len(value) > max_chars
    if truncated:
        value = value[:max_chars]
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.translate(_TEXT_TABLE)
    return value + TRUNCATION_NOTE if truncated else value


def clean_line(value: str | None, *, max_chars: int = MAX_LINE_CHARS) -> str:
    """Make untrusted text safe for one line (names, subjects, cells): no line breaks."""
    if not value:
        return ""
    truncated = len(value) > max_chars
    if truncated:
        value = value[:max_chars]
    value = value.replace("\r\n", " ").replace("\r", " ").translate(_LINE_TABLE)
    return value + "…" if truncated else value


def is_clean(value: str) -> bool:
    """True when `value` holds no character the sanitiser would have changed."""
    return all(ord(char) not in _TEXT_TABLE or char == "\n" for char in value)
