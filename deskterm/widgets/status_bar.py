"""One line with each source's sync state: syncing with progress, last sync, or the error."""

from __future__ import annotations

from collections.abc import Callable

from textual.content import Content
from textual.widgets import Static

from deskterm.domain.sanitize import clean_line
from deskterm.store.status import SourceStatus
from deskterm.domain.format import age_label


def status_content(statuses: list[SourceStatus], progress: dict[str, str], now: float) -> Content:
    parts: list[str | tuple[str, str]] = []
    for status in statuses:
        if parts:
            parts.append(("  ·  ", "#8b8d98"))
        name = clean_line(status.account_name, max_chars=24)
        live = progress.get(status.account_key)
        if live is not None:
            parts.append((f"⟳ {name} {live}", "#ffc53d"))
        elif status.state == "error":
            parts.append((f"✗ {name}: {clean_line(status.last_error or 'Fehler', max_chars=80)}", "bold #e5484d"))
        elif status.last_success:
            parts.append((f"✓ {name} {age_label(now - status.last_success)}", "#46a758"))
        else:
            parts.append((f"○ {name}", "#8b8d98"))
    if not statuses:
        parts.append(("Keine Konten eingerichtet", "#8b8d98"))
    return Content.assemble(*parts)


class SyncStatusBar(Static):
    DEFAULT_CSS = "SyncStatusBar { height: 1; background: $panel; padding: 0 1; }"

    def __init__(self, *, clock: Callable[[], float], id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.clock = clock
        self.statuses: list[SourceStatus] = []
        self.progress: dict[str, str] = {}

    def show(self, statuses: list[SourceStatus] | None = None) -> None:
        if statuses is not None:
            self.statuses = statuses
        self.update(status_content(self.statuses, self.progress, self.clock()))
