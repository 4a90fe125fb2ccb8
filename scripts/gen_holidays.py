#!/usr/bin/env python3
"""Regenerate deskterm/domain/data/holidays_de.json from the `holidays` library.

    python scripts/gen_holidays.py

German public holidays per federal state for FIRST_YEAR..LAST_YEAR, so the app does not
load the whole library (about 20 MiB and 100 ms) to draw a countdown. The domain falls
back to the library for other years; tests/test_sla.py checks the file against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import holidays

FIRST_YEAR, LAST_YEAR = 2024, 2040
STATES = ["", "BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH"]
OUT = Path(__file__).resolve().parent.parent / "deskterm" / "domain" / "data" / "holidays_de.json"


def table() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = {}
    for state in STATES:
        days = holidays.country_holidays("DE", subdiv=state or None, years=range(FIRST_YEAR, LAST_YEAR + 1))
        by_year: dict[str, list[str]] = {}
        for day in sorted(days):
            by_year.setdefault(str(day.year), []).append(day.isoformat())
        data[state or "DE"] = by_year
    return data


if __name__ == "__main__":
    OUT.write_text(json.dumps({"source": f"holidays {holidays.__version__}", "first_year": FIRST_YEAR,
                               "last_year": LAST_YEAR, "states": table()}, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT}")
