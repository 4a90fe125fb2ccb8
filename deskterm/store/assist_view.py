"""What assisted triage recorded for a ticket, read for the ticket header (one indexed read;
no classifier imported, so the app starts without compiling the rules)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssistView:
    """What the ticket header shows about the assist's reading of a ticket."""

    intent: str
    secondary: str | None
    language: str
    urgency: int
    needs_answer: bool
    cues: list[tuple[str, float]]
    model: str
    confidence: float
    route: str | None
    draft_note: str | None
    intent_source: str | None


def assist_view(conn: sqlite3.Connection, ticket_id: int) -> AssistView | None:
    row = conn.execute("SELECT ta.intent, ta.secondary, ta.language, ta.urgency, ta.needs_answer, ta.cues, ta.model, "
                       "ta.confidence, ta.route, ta.draft_note, t.intent_source, t.intent FROM ticket_assist ta "
                       "JOIN tickets t ON t.id = ta.ticket_id WHERE ta.ticket_id = ?", (ticket_id,)).fetchone()
    if row is None:
        return None
    intent = row[11] if row[10] == "agent" and row[11] else row[0]
    return AssistView(intent, row[1], row[2], int(row[3]), bool(row[4]),
                      [(str(c), float(w)) for c, w in json.loads(row[5] or "[]")], row[6], float(row[7]), row[8],
                      row[9], row[10])
