"""Mail ingest as a pipeline: fetch ahead, parse on the other core, store in order.

Parsing is the slowest stage of mail ingest (benchmarks/RESULTS.md), so:

* `MailParser` parses a batch of at least POOL_THRESHOLD mails in a worker process
  (spawned, never forked: the TUI runs threads); small incremental syncs parse
  in-process, so a new mail never waits for a process to start.
* `ReadAhead` keeps up to `depth` batches fetched and being parsed ahead of the engine,
  on one background thread, while the engine stores the current batch. A batch read
  ahead is used only if the engine asks for exactly the cursor it was read from;
  otherwise the read-ahead stops and the batch is read again.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from deskterm.model import Batch, MailLocation, MailRecord
from deskterm.sources.mail.records import mail_record

POOL_THRESHOLD = 64


@dataclass(frozen=True, slots=True)
class RawMail:
    raw: bytes
    location: MailLocation
    flags: tuple[str, ...]
    received_at: datetime | None
    partial_size: int | None = None  # set: `raw` is only the header of a mail this large


def build_records(mails: list[RawMail], own_addresses: tuple[str, ...], is_sent_folder: bool) -> list[MailRecord]:
    return [mail_record(m.raw, own_addresses=own_addresses, is_sent_folder=is_sent_folder, location=m.location,
                        flags=m.flags, received_at=m.received_at, partial_size=m.partial_size) for m in mails]


class Parsed:
    """Records of one batch, ready now or still being parsed in a worker."""

    def __init__(self, records: list[MailRecord] | None = None, future: Future[list[MailRecord]] | None = None):
        self._records = records
        self._future = future

    def result(self) -> list[MailRecord]:
        if self._records is None:
            assert self._future is not None
            self._records = self._future.result()
        return self._records


class MailParser:
    """Parses batches of raw mail; owns the worker processes (close() ends them)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else max(1, min(2, (os.cpu_count() or 1) - 1))
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, mails: list[RawMail], own_addresses: tuple[str, ...], is_sent_folder: bool) -> Parsed:
        if len(mails) < POOL_THRESHOLD or (os.cpu_count() or 1) < 2:
            return Parsed(build_records(mails, own_addresses, is_sent_folder))
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return Parsed(future=self._pool.submit(build_records, mails, own_addresses, is_sent_folder))

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


Step = tuple[Batch, Parsed]  # a batch without its mails yet, and those mails being parsed


class ReadAhead:
    """Fetches batches ahead of the engine on one thread (see the module docstring)."""

    def __init__(self, fetch: Callable[[str, str | None], Step], *, depth: int = 2, name: str = "read-ahead") -> None:
        self._fetch = fetch
        self.depth = depth
        self.name = name
        self._items: deque[tuple[tuple[str, str | None], Step | BaseException]] = deque()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next(self, stream: str, cursor: str | None) -> Batch:
        step = self._take(stream, cursor)
        if step is None:
            self.close()
            step = self._fetch(stream, cursor)
        batch, parsed = step
        if batch.has_more and batch.cursor is not None and self._thread is None:
            self._start(stream, batch.cursor)
        batch.mails.extend(parsed.result())
        return batch

    def _take(self, stream: str, cursor: str | None) -> Step | None:
        with self._changed:
            while not self._items and self._thread is not None and self._thread.is_alive():
                self._changed.wait(0.5)
            if not self._items or self._items[0][0] != (stream, cursor):
                return None
            _, item = self._items.popleft()
            self._changed.notify_all()
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item

    def _start(self, stream: str, cursor: str) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(stream, cursor), name=self.name, daemon=True)
        self._thread.start()

    def _run(self, stream: str, cursor: str | None) -> None:
        while not self._stop.is_set():
            with self._changed:
                while len(self._items) >= self.depth and not self._stop.is_set():
                    self._changed.wait(0.5)
            if self._stop.is_set():
                return
            try:
                step: Step | BaseException = self._fetch(stream, cursor)
            except Exception as exc:  # handed to the engine with the batch it asks for next
                step = exc
            with self._changed:
                self._items.append(((stream, cursor), step))
                self._changed.notify_all()
            if isinstance(step, BaseException) or not step[0].has_more:
                return
            cursor = step[0].cursor

    def close(self) -> None:
        """Stop reading ahead and forget what was read (waits for a fetch in flight)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            with self._changed:
                self._changed.notify_all()
            thread.join()
        with self._changed:
            self._items.clear()
