"""The sync engine: runs sources, stores their batches, records per-source status.

It knows no UI: progress goes to a listener callback (the TUI posts it as a message, the
CLI prints it). One failing source is recorded and skipped; the others still run. The
engine opens its own store connection, so it can run in a worker thread or a process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deskterm.sources.base import Source, SourceError
from deskterm.store.db import Store, StoreError
from deskterm.store.status import set_source_status
from deskterm.store.sync_writes import apply_batch, ensure_account, get_cursor

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """What the engine reports: kind is 'started', 'progress', 'finished' or 'failed'."""

    account_key: str
    kind: str
    stored: int = 0
    backlog: int | None = None
    error: str | None = None


@dataclass(slots=True)
class SourceRun:
    account_key: str
    batches: int = 0
    messages: int = 0
    error: str | None = None


Listener = Callable[[SyncEvent], None]


def describe_error(exc: BaseException) -> str:
    """One line for the user; never a traceback, never local variables."""
    if isinstance(exc, (SourceError, StoreError)):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


class SyncEngine:
    def __init__(
        self,
        store_path: Path,
        sources: Sequence[Source],
        *,
        clock: Callable[[], float] = time.time,
        listener: Listener | None = None,
        opener: Callable[[Path], Store] = Store.open,
    ) -> None:
        self.store_path = store_path
        self.sources = list(sources)
        self.clock = clock
        self.listener = listener or (lambda event: None)
        self.opener = opener

    def run_once(self, stop: threading.Event | None = None) -> list[SourceRun]:
        """Pull every source until it has nothing more; return what each did."""
        runs: list[SourceRun] = []
        with self.opener(self.store_path) as store:
            for source in self.sources:
                if stop is not None and stop.is_set():
                    break
                runs.append(self._run_source(store, source, stop))
        return runs

    def watch(self, interval: float, stop: threading.Event, *, after_each: Callable[[], None] | None = None) -> None:
        """Sync, wait up to `interval` seconds, repeat until `stop` is set.

        Sources that can push (IMAP IDLE) end the wait early when their server reports a
        change, so new mail arrives within a second or two rather than at the next poll.
        `after_each` runs after every sync (the CLI delivers the outbox there).
        """
        while not stop.is_set():
            self.run_once(stop)
            if after_each is not None:
                try:
                    after_each()
                except Exception as exc:  # e.g. the outbox failing must not end the watch
                    log.warning("after-sync step failed: %s", describe_error(exc))
            self.wait_for_push(interval, stop)

    def can_push(self) -> bool:
        """True if some source can report changes as they happen (IMAP IDLE)."""
        return any(callable(getattr(s, "wait_for_change", None)) for s in self.sources)

    def wait_for_push(self, interval: float, stop: threading.Event) -> bool:
        """Wait up to `interval` s; True if a source's server reported a change meanwhile."""
        pushers = [s for s in self.sources if callable(getattr(s, "wait_for_change", None))]
        if not pushers:
            stop.wait(interval)
            return False
        done = threading.Event()
        woken = threading.Event()

        def listen(source: Source) -> None:
            try:
                if source.wait_for_change(interval, done):  # type: ignore[attr-defined]
                    woken.set()
            except Exception as exc:  # a broken push channel only means polling
                log.warning("%s: waiting for changes failed: %s", source.account_key, describe_error(exc))

        threads = [threading.Thread(target=listen, args=(s,), name=f"idle-{s.account_key}", daemon=True)
                   for s in pushers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + interval
        while not stop.is_set() and not woken.is_set() and time.monotonic() < deadline:
            woken.wait(0.1)
        done.set()
        for thread in threads:
            thread.join(timeout=5)
        return woken.is_set()

    def _run_source(self, store: Store, source: Source, stop: threading.Event | None) -> SourceRun:
        run = SourceRun(source.account_key)
        now = int(self.clock())
        try:
            account_id = ensure_account(store, source.account_key, str(source.channel), source.account_name, now=now)
        except StoreError as exc:
            run.error = describe_error(exc)
            self.listener(SyncEvent(source.account_key, "failed", error=run.error))
            return run
        self._status(store, account_id, state="syncing")
        self.listener(SyncEvent(source.account_key, "started"))
        backlog: int | None = None
        try:
            for stream in source.streams:
                while stop is None or not stop.is_set():
                    cursor = get_cursor(store.conn, account_id, stream)
                    batch = source.pull(stream, cursor)
                    if batch.size == 0 and batch.cursor == cursor:
                        break
                    result = apply_batch(store, account_id, stream, batch, now=int(self.clock()))
                    run.batches += 1
                    run.messages += result.messages
                    backlog = batch.backlog
                    self.listener(SyncEvent(source.account_key, "progress", stored=run.messages, backlog=backlog))
                    if not batch.has_more:
                        break
        except Exception as exc:  # one source failing must never stop the others
            run.error = describe_error(exc)
            log.warning("sync of %s failed: %s", source.account_key, run.error)
            self._status(store, account_id, state="error", error=run.error)
            self.listener(SyncEvent(source.account_key, "failed", stored=run.messages, error=run.error))
            return run
        self._status(store, account_id, state="idle", success=True, backlog=backlog or 0)
        log.info("synced %s: %d messages in %d batches", source.account_key, run.messages, run.batches)
        self.listener(SyncEvent(source.account_key, "finished", stored=run.messages, backlog=backlog))
        return run

    def _status(self, store: Store, account_id: int, **fields: object) -> None:
        try:
            set_source_status(store, account_id, now=int(self.clock()), **fields)  # type: ignore[arg-type]
        except StoreError as exc:
            log.warning("could not record source status: %s", describe_error(exc))
