"""Where a buyer's own words end and the quoted history begins.

Used by the mail parser (the thread view folds the history away) and by assisted triage
(only the buyer's new text is classified: a quoted seller mail about "Rücksendung" must not
make a tracking question a return request).
"""

from __future__ import annotations

import re

_QUOTE_MARKERS = re.compile(
    r"^(?:"
    r"Am .{3,120}(?:schrieb|hat .{0,60} geschrieben)[^\n]{0,80}:\s*$"
    r"|-{2,}\s*(?:Ursprüngliche Nachricht|Original Message|Originalnachricht|Weitergeleitete Nachricht|"
    r"Forwarded message)\s*-{2,}\s*$"
    r"|On .{3,160} wrote:\s*$"
    r"|Von: .+\n(?:An|Gesendet|Datum|Betreff): "
    r"|From: .+\n(?:Sent|To|Date|Subject): "
    r")", re.MULTILINE)

_SIGNOFF_DEVICE = re.compile(r"^(?:Von meinem \w+ gesendet|Gesendet von meinem \w+|Sent from my \w+)\s*$", re.MULTILINE)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history) at the first reply marker or trailing '>' block."""
    match = _QUOTE_MARKERS.search(text)
    if match:
        return text[:match.start()].rstrip(), text[match.start():].strip()
    lines = text.rstrip().split("\n")
    end = len(lines)
    while end > 0 and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
        end -= 1
    if end < len(lines) and any(line.startswith(">") for line in lines[end:]):
        return "\n".join(lines[:end]).rstrip(), "\n".join(lines[end:]).strip()
    return text.strip(), ""


def own_text(text: str) -> str:
    """The new text of a message without quoted history or "Sent from my iPhone" lines."""
    return _SIGNOFF_DEVICE.sub("", split_quoted(text)[0]).strip()
