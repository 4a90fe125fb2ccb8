"""Measure the inbox against a built store (see build_store.py).

    python benchmarks/bench_ui.py benchmarks/data/w10k.sqlite3 benchmarks/data/w1m.sqlite3

For each store:
* cold start: the real `deskterm --store` in a 160x48 pseudo-terminal; the clock starts
  before fork() and stops when the first inbox row's subject has been written to the
  terminal. Median of 5 runs.
* peak RSS: the same real process after 20 page-downs, opening a ticket and searching every
  query class, read from the kernel (ru_maxrss of the exited child).
* page down: in-process (`App.run_test`), the time from the keypress to a fully rendered
  frame (every visible line rendered and encoded for the terminal), minus the same
  measurement for a key that does nothing (the harness floor); the raw figure is kept too.
* open ticket: from `open_ticket()` (what Enter calls) to the ticket screen's first
  complete frame (layout done, every visible line rendered: what the user sees), and
  "until idle": until Textual has also finished the follow-up partial repaints
  (scrollbars) on its 60 Hz timer, plus encoding a full frame; the latter also minus a
  wait-and-frame with nothing to do.
* search: the exact function the UI's search worker runs (own connection, FTS5 newest
  first, 200 tickets ordered by activity), 20 runs per query class, p95.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import platform
import pty
import select
import signal
import sqlite3
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

COLUMNS, ROWS = 160, 48
RUNS = 5


# -- real process in a pty -----------------------------------------------------------


def _first_subject(store: Path) -> str:
    from deskterm.store.db import Store
    from deskterm.widgets.rows import QueueRows

    with Store.open(store, create=False) as opened:  # the start view: deadline first, then activity
        row = QueueRows(opened.conn).get(0)
    assert row is not None
    return row.subject[:20]


def _spawn(store: Path, home: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child: size the terminal, then exec the real command
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        os.environ.update({"TERM": "xterm-256color", "DESKTERM_HOME": home, "COLUMNS": str(COLUMNS),
                           "LINES": str(ROWS)})
        os.execv(sys.executable, [sys.executable, "-m", "deskterm", "--store", str(store)])
    return pid, fd, started


def _read_until(fd: int, needle: bytes, timeout: float) -> tuple[bool, bytes]:
    seen = b""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if needle in seen:
                return True, seen
    return False, seen


def _drain(fd: int, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def _quit(pid: int, fd: int) -> int:
    """Ask the app to quit (ctrl+q) and return the child's peak RSS in KiB."""
    os.write(fd, b"\x11")
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            os.close(fd)
            return usage.ru_maxrss
        _drain(fd, 0.05)
    os.kill(pid, signal.SIGKILL)
    _, _, usage = os.wait4(pid, 0)
    os.close(fd)
    return usage.ru_maxrss


def cold_start(store: Path, home: str) -> float:
    needle = _first_subject(store).encode()
    pid, fd, started = _spawn(store, home)
    found, seen = _read_until(fd, needle, 30)
    elapsed = time.perf_counter() - started
    _quit(pid, fd)
    if not found:
        raise RuntimeError(f"first row never painted; output tail: {seen[-400:]!r}")
    return elapsed


def peak_rss_session(store: Path, home: str, queries: list[str]) -> int:
    needle = _first_subject(store).encode()
    pid, fd, _ = _spawn(store, home)
    _read_until(fd, needle, 30)
    for _ in range(20):
        os.write(fd, b"\x1b[6~")  # PgDn
        _drain(fd, 0.05)
    os.write(fd, b"\r")
    _drain(fd, 0.5)
    os.write(fd, b"q")
    _drain(fd, 0.3)
    for query in queries:
        os.write(fd, b"/" + query.encode() + b"\r")
        _drain(fd, 0.6)
        os.write(fd, b"\x1b")
        _drain(fd, 0.3)
    return _quit(pid, fd)


# -- in-process latencies ------------------------------------------------------------


async def _latencies(store_path: Path, ticket_id: int) -> dict[str, list[float]]:
    from deskterm.cli import build_app
    from deskterm.config import Config
    from deskterm.paths import locations
    from deskterm.store.db import Store

    app = build_app(store=Store.open(store_path, create=False), profile="bench", config=Config(),
                    where=locations(), poll_seconds=3600)
    results: dict[str, list[float]] = {"floor": [], "pagedown": [], "open_ticket": [], "open_floor": [],
                                       "open_first_frame": []}
    from textual.screen import Screen

    frames: list[float] = []
    compositor_refresh = Screen._compositor_refresh

    def recorded(screen: Screen) -> None:  # the moment a screen's frame is composed
        compositor_refresh(screen)
        if type(screen).__name__ == "TicketScreen":
            frames.append(time.perf_counter())

    Screen._compositor_refresh = recorded  # type: ignore[method-assign]

    async with app.run_test(size=(COLUMNS, ROWS)) as pilot:
        await pilot.pause()

        def frame() -> None:
            update = app.screen._compositor.render_full_update()
            update.render_segments(app.console)

        async def timed(key: str) -> float:
            start = time.perf_counter()
            await pilot.press(key)
            frame()
            return time.perf_counter() - start

        for _ in range(20):
            results["floor"].append(await timed("f12"))  # unbound: the harness alone
            results["pagedown"].append(await timed("pagedown"))
        for _ in range(RUNS):
            start = time.perf_counter()
            await pilot.pause()  # the same wait and frame, with nothing to do
            frame()
            results["open_floor"].append(time.perf_counter() - start)
            frames.clear()
            start = time.perf_counter()
            app.open_ticket(ticket_id)
            await pilot.pause()
            frame()
            results["open_ticket"].append(time.perf_counter() - start)
            results["open_first_frame"].append(frames[0] - start)
            assert app.screen.__class__.__name__ == "TicketScreen" and len(app.screen.messages) == 20
            await pilot.press("q")
            await pilot.pause()
    Screen._compositor_refresh = compositor_refresh  # type: ignore[method-assign]
    app.store.close()  # type: ignore[union-attr]
    return results


def search_queries(store: Path) -> dict[str, str]:
    conn = sqlite3.connect(store)
    order = conn.execute("SELECT order_ref FROM tickets WHERE channel = 'amazon' AND order_ref <> '' "
                         "ORDER BY id DESC LIMIT 1").fetchone()[0]
    sender = conn.execute("SELECT sender_addr FROM messages WHERE sender_addr LIKE '%@marketplace.amazon.de' "
                          "ORDER BY id DESC LIMIT 1").fetchone()[0]
    conn.close()
    return {
        "rare word": "dunkelblau",
        "common word": "bestellung",
        "prefix": "bestell*",
        "phrase": '"nicht angekommen"',
        "a AND b": "paket AND dhl",
        "order number": order,
        "sender": sender,
        "umlaut/ß": "grüße",
        "umlaut phrase": '"rücksendung ist"',
    }


def search_p95(store: Path, queries: dict[str, str]) -> dict[str, dict[str, float]]:
    from deskterm.screens.inbox import run_search

    conn = sqlite3.connect(store)
    out: dict[str, dict[str, float]] = {}
    for name, query in queries.items():
        from deskterm.domain.query import parse_query

        matches = conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?",
                               (parse_query(query, now=0).words,)).fetchone()[0]
        times = []
        for _ in range(20):
            start = time.perf_counter()
            ids, _more = run_search(store, query, now=int(time.time()), agent="bench")
            times.append(time.perf_counter() - start)
        times.sort()
        out[name] = {"query": query, "matches": matches, "tickets": len(ids),  # type: ignore[dict-item]
                     "p50_ms": statistics.median(times) * 1000, "p95_ms": times[18] * 1000}
    conn.close()
    return out


def bench(store: Path) -> dict[str, object]:
    conn = sqlite3.connect(store)
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    ticket_id = conn.execute("SELECT id FROM tickets WHERE message_count = 20 ORDER BY last_message_at DESC "
                             "LIMIT 1").fetchone()[0]
    conn.close()
    home = tempfile.mkdtemp(prefix="deskterm-bench-")
    os.environ["DESKTERM_HOME"] = home
    cold = [cold_start(store, home) for _ in range(RUNS)]
    queries = search_queries(store)
    rss = peak_rss_session(store, home, list(queries.values()))
    lat = asyncio.run(_latencies(store, ticket_id))
    floor = statistics.median(lat["floor"])
    pagedown = sorted(t - floor for t in lat["pagedown"])
    open_net = [t - statistics.median(lat["open_floor"]) for t in lat["open_ticket"]]
    return {
        "store": str(store), "messages": messages, "tickets": tickets,
        "cold_start_s": {"median": statistics.median(cold), "max": max(cold), "runs": cold},
        "peak_rss_mib": rss / 1024,
        "pagedown_ms": {"p50": statistics.median(pagedown) * 1000, "p95": pagedown[18] * 1000,
                        "max": pagedown[-1] * 1000, "harness_floor": floor * 1000},
        "open_ticket_ms": {"first_frame_median": statistics.median(lat["open_first_frame"]) * 1000,
                           "first_frame_max": max(lat["open_first_frame"]) * 1000,
                           "until_idle_median": statistics.median(lat["open_ticket"]) * 1000,
                           "until_idle_minus_floor_median": statistics.median(open_net) * 1000,
                           "until_idle_max": max(lat["open_ticket"]) * 1000},
        "search": search_p95(store, queries),
    }


def main() -> None:
    stores = [Path(a) for a in sys.argv[1:]]
    if not stores:
        raise SystemExit(__doc__)
    report = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(),
              "results": [bench(store) for store in stores]}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
