"""How keys are written for people (help screen, key bar)."""

from __future__ import annotations

_KEY_NAMES = {"slash": "/", "question_mark": "?", "colon": ":", "escape": "Esc", "enter": "Enter",
              "space": "Leertaste", "pagedown": "PgDn", "pageup": "PgUp", "home": "Pos1", "end": "Ende",
              "down": "↓", "up": "↑", "semicolon": ";", "left_square_bracket": "[", "right_square_bracket": "]"}


def key_label(key: str) -> str:
    key = key.strip()
    return _KEY_NAMES.get(key, key)
