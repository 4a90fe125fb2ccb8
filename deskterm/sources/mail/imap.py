"""IMAP source: incremental, per folder, with UIDVALIDITY, CONDSTORE, expunge detection and IDLE.

Each followed folder is a stream; its cursor is `{"v": UIDVALIDITY, "u": last stored UID,
"m": HIGHESTMODSEQ, "n": how many messages with UID <= u the server had}`. A pull:

1. SELECTs the folder read-only (nothing is marked \\Seen by syncing);
2. a changed UIDVALIDITY forgets the folder's old locations and starts over at UID 1 (the
   mails themselves are keyed by Message-ID in the store, so nothing is duplicated);
3. with CONDSTORE, `UID SEARCH MODSEQ m+1` finds flag changes among known mails;
4. if EXISTS says fewer known mails remain than the cursor counted, `UID SEARCH 1:u` lists
   what is left and the store forgets the locations of expunged mails (it keeps the mails:
   a mail missing on one side is never deleted on the other);
5. fetches the next `batch_messages` new UIDs: whole messages up to `max_message_bytes`,
   only headers above that (a placeholder, fetched on demand).

While the engine stores one batch, the next ones are fetched and parsed (pipeline.py).

A sync with nothing changed costs one SELECT and one UID SEARCH.
"""

from __future__ import annotations

import imaplib
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from deskterm.model import Batch, Channel, MailFlags, MailFolderState, MailLocation, MailRecord
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SendNotSupported, SourceError
from deskterm.sources.mail.pipeline import MailParser, Parsed, RawMail, ReadAhead, Step
from deskterm.sources.mail.records import mail_record
from deskterm.sources.mail.settings import MailAccountSettings, ServerSettings

log = logging.getLogger(__name__)

IDLE_RENEW_SECONDS = 25 * 60  # servers may drop an IDLE after 29 minutes (RFC 2177)
BATCH_BYTES = 64 * 1024 * 1024  # a batch stops growing at about this much mail
CONTINUATION_SECONDS = 120  # a backlog older than this is re-SELECTed before reading on
_CHANGE_RESPONSES = (b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED")


@dataclass(slots=True)
class FolderCursor:
    uidvalidity: int = 0
    last_uid: int = 0
    modseq: int = 0
    known: int = 0

    @classmethod
    def parse(cls, raw: str | None) -> FolderCursor | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(int(data["v"]), int(data["u"]), int(data.get("m", 0)), int(data.get("n", 0)))
        except (ValueError, KeyError, TypeError):
            raise SourceError(f"IMAP cursor {raw[:40]!r} is unreadable; reset the account", temporary=False) from None

    def dump(self) -> str:
        return json.dumps({"v": self.uidvalidity, "u": self.last_uid, "m": self.modseq, "n": self.known},
                          sort_keys=True)


def connect(server: ServerSettings, password: str) -> IMAPClient:
    """A logged-in client; every failure becomes a one-line SourceError."""
    context = server.tls_context()
    try:
        client = IMAPClient(server.host, port=server.port, ssl=server.security == "tls",
                            ssl_context=context if server.security == "tls" else None, timeout=server.timeout)
        if server.security == "starttls":
            client.starttls(context)
        client.login(server.user, password)
        return client
    except LoginError:
        raise SourceError(f"IMAP {server.host}: login for {server.user} refused; check the password",
                          temporary=False) from None
    except ssl.SSLError as exc:
        raise SourceError(f"IMAP {server.host}: TLS failed ({exc.reason or exc})", temporary=False) from None
    except (OSError, socket.timeout, IMAPClientError, imaplib.IMAP4.error) as exc:
        raise SourceError(f"IMAP {server.host}:{server.port}: {type(exc).__name__}: {str(exc)[:120]}") from None


class ImapSource:
    """One IMAP account; INBOX and Sent (by default) are its streams."""

    capabilities = Capabilities(can_send=True, has_orders=False, has_messages=True)

    def __init__(self, account_key: str, account_name: str, settings: MailAccountSettings,
                 password: Callable[[], str], *, channel: Channel = Channel.EMAIL) -> None:
        if settings.imap is None:
            raise SourceError(f"{account_key}: no IMAP server configured", temporary=False)
        self.account_key = account_key
        self.account_name = account_name
        self.channel = channel
        self.settings = settings
        self.server: ServerSettings = settings.imap
        self.streams = settings.folders
        self._password = password
        self._client: IMAPClient | None = None
        self._idle_client: IMAPClient | None = None
        self._condstore = False
        # A SELECT costs the server a look at the whole folder (Dovecot: a Maildir scan), so
        # the batches of one backlog reuse the first SELECT's numbers; every new run SELECTs.
        self._selected: tuple[int, int, int] = (0, 0, 0)
        self._continuation: tuple[str, str | None] | None = None
        self._selected_at = 0.0
        self._parser = MailParser()
        self._reader = ReadAhead(self._checked_pull, name=f"imap-{account_key}")

    # -- connection -------------------------------------------------------------------
    def _connection(self) -> IMAPClient:
        if self._client is None:
            self._client = connect(self.server, self._password())
            self._condstore = self._client.has_capability("CONDSTORE")
            if self._condstore:
                try:
                    self._client.enable("CONDSTORE")
                except (IMAPClientError, imaplib.IMAP4.error):
                    self._condstore = False
        return self._client

    def _drop(self) -> None:
        self._continuation = None
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # the connection is broken already; closing is best effort
                pass

    # -- sync -------------------------------------------------------------------------
    def pull(self, stream: str, cursor: str | None) -> Batch:
        """The batch after `cursor`; while the engine stores it, the next ones are read ahead."""
        return self._reader.next(stream, cursor)

    def _checked_pull(self, stream: str, cursor: str | None) -> Step:
        try:
            return self._pull(stream, cursor)
        except SourceError:
            self._drop()
            raise
        except (OSError, socket.timeout, IMAPClientError, imaplib.IMAP4.error) as exc:
            self._drop()
            raise SourceError(f"IMAP {self.server.host} {stream}: {type(exc).__name__}: {str(exc)[:120]}") from None

    def _pull(self, folder: str, raw_cursor: str | None) -> Step:
        client = self._connection()
        cursor = FolderCursor.parse(raw_cursor)
        continuing = (self._continuation == (folder, raw_cursor) and raw_cursor is not None
                      and time.monotonic() - self._selected_at < CONTINUATION_SECONDS)
        if continuing:  # the rest of a backlog this connection is reading: no new SELECT
            uidvalidity, exists, modseq = self._selected
        else:
            info = client.select_folder(folder, readonly=True)
            uidvalidity = int(info[b"UIDVALIDITY"])
            exists = int(info.get(b"EXISTS", 0))
            modseq = int(info.get(b"HIGHESTMODSEQ", 0) or 0)
            self._selected = (uidvalidity, exists, modseq)
            self._selected_at = time.monotonic()
        self._continuation = None
        batch = Batch(cursor=None)
        if cursor is None or cursor.uidvalidity != uidvalidity:
            if cursor is not None:
                log.info("%s %s: UIDVALIDITY changed, re-reading the folder", self.account_key, folder)
                batch.folder_states.append(MailFolderState(folder, uidvalidity, 0))
            cursor = FolderCursor(uidvalidity)
        if cursor.last_uid and not continuing:
            self._flag_changes(client, folder, cursor, modseq, batch)
            if not self._known_intact(client, cursor, exists):
                present = frozenset(client.search(["UID", f"1:{cursor.last_uid}"]))
                batch.folder_states.append(MailFolderState(folder, uidvalidity, cursor.last_uid, present))
                cursor.known = len(present)
        new_count = max(0, exists - cursor.known)
        take = self._next_mails(client, cursor, min(new_count, self.settings.batch_messages))
        parsed = self._fetch(client, folder, uidvalidity, take)
        if take:
            cursor.last_uid = take[-1][0]
            cursor.known += len(take)
        cursor.modseq = modseq
        batch.cursor = cursor.dump()
        batch.backlog = max(0, exists - cursor.known)
        batch.has_more = batch.backlog > 0
        if batch.has_more:
            self._continuation = (folder, batch.cursor)
        return batch, parsed

    @staticmethod
    def _known_intact(client: IMAPClient, cursor: FolderCursor, exists: int) -> bool:
        """True if the `known` mails with UID <= last_uid are all still there.

        UIDs grow with sequence numbers, so that holds exactly when message number `known`
        has UID last_uid: one FETCH instead of listing every UID of a big folder.
        """
        if cursor.known == 0 or exists < cursor.known:
            return cursor.known == 0
        client.use_uid = False
        try:
            data = client.fetch([cursor.known], ["UID"])
        finally:
            client.use_uid = True
        uid = next((int(v.get(b"UID", 0)) for v in data.values()), 0)
        return uid == cursor.last_uid

    def _next_mails(self, client: IMAPClient, cursor: FolderCursor, count: int) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
        """(UID, size/flags/date) of the next mails after the known ones, by sequence number,
        at most `count` and about BATCH_BYTES of mail (always at least one)."""
        if count <= 0:
            return []
        client.use_uid = False
        try:
            # a list, not "a:b": imapclient 4.1's fetch() cannot take a range string
            data = client.fetch(list(range(cursor.known + 1, cursor.known + count + 1)),
                                ["UID", "RFC822.SIZE", "FLAGS", "INTERNALDATE"])
        finally:
            client.use_uid = True
        found = sorted((int(v.get(b"UID", 0)), v) for v in data.values())
        taken: list[tuple[int, dict]] = []  # type: ignore[type-arg]
        total = 0
        for uid, meta in found:
            if uid <= cursor.last_uid:
                continue
            size = min(int(meta.get(b"RFC822.SIZE", 0)), self.settings.max_message_bytes)
            if taken and total + size > BATCH_BYTES:
                break
            taken.append((uid, meta))
            total += size
        return taken

    def _flag_changes(self, client: IMAPClient, folder: str, cursor: FolderCursor, modseq: int, batch: Batch) -> None:
        if self._condstore and modseq and cursor.modseq:
            if modseq == cursor.modseq:
                return
            changed = client.search(["MODSEQ", str(cursor.modseq + 1), "UID", f"1:{cursor.last_uid}"])
        else:  # no CONDSTORE: compare every known mail's flags (slower, still correct)
            changed = client.search(["UID", f"1:{cursor.last_uid}"])
        for chunk in _chunks(sorted(changed), 1000):
            for uid, data in client.fetch(chunk, ["FLAGS"]).items():
                batch.mail_flags.append(MailFlags(MailLocation(folder, cursor.uidvalidity, int(uid)),
                                                  _flags(data.get(b"FLAGS", ()))))

    def _fetch(self, client: IMAPClient, folder: str, uidvalidity: int,
               mails: list[tuple[int, dict]]) -> Parsed:  # type: ignore[type-arg]
        if not mails:
            return Parsed([])
        limit = self.settings.max_message_bytes
        small = [uid for uid, meta in mails if int(meta.get(b"RFC822.SIZE", 0)) <= limit]
        large = {uid for uid, meta in mails if int(meta.get(b"RFC822.SIZE", 0)) > limit}
        bodies: dict[int, bytes] = {}
        for uid, data in client.fetch(small, ["BODY.PEEK[]"]).items() if small else ():
            bodies[int(uid)] = data.get(b"BODY[]") or b""
        for uid, data in client.fetch(sorted(large), ["BODY.PEEK[HEADER]"]).items() if large else ():
            bodies[int(uid)] = data.get(b"BODY[HEADER]") or b""
        raws = []
        for uid, meta in mails:
            if uid not in bodies:  # expunged between the two FETCHes; the next sync settles it
                continue
            internal = meta.get(b"INTERNALDATE")
            received = internal.astimezone(timezone.utc) if isinstance(internal, datetime) else None
            raws.append(RawMail(bodies[uid], MailLocation(folder, uidvalidity, uid), _flags(meta.get(b"FLAGS", ())),
                                received, int(meta.get(b"RFC822.SIZE", 0)) if uid in large else None))
        return self._parser.submit(raws, self.settings.addresses, folder == self.settings.sent_folder)

    def fetch_whole(self, location: MailLocation) -> MailRecord:
        """One mail in full (for a placeholder the agent wants to read)."""
        try:
            client = self._connection()
            info = client.select_folder(location.folder, readonly=True)
            if int(info[b"UIDVALIDITY"]) != location.uidvalidity:
                raise SourceError(f"{location.folder} changed on the server; sync again first", temporary=False)
            data = client.fetch([location.uid], ["BODY.PEEK[]", "FLAGS"]).get(location.uid)
        except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
            self._drop()
            raise SourceError(f"IMAP {self.server.host}: {type(exc).__name__}: {str(exc)[:120]}") from None
        if not data:
            raise SourceError("the mail is no longer on the server", temporary=False)
        return mail_record(data.get(b"BODY[]") or b"", own_addresses=self.settings.addresses,
                           is_sent_folder=location.folder == self.settings.sent_folder, location=location,
                           flags=_flags(data.get(b"FLAGS", ())))

    # -- watch mode -------------------------------------------------------------------
    def wait_for_change(self, timeout: float, done: threading.Event) -> bool:
        """IDLE on INBOX until the server reports a change, `done` is set or `timeout` passes."""
        deadline = time.monotonic() + min(timeout, IDLE_RENEW_SECONDS)
        try:
            if self._idle_client is None:
                self._idle_client = connect(self.server, self._password())
                self._idle_client.select_folder("INBOX", readonly=True)
            client = self._idle_client
            client.idle()
            changed = False
            try:
                while not done.is_set() and time.monotonic() < deadline:
                    responses = client.idle_check(timeout=0.5)
                    if any(len(r) > 1 and r[1] in _CHANGE_RESPONSES for r in responses if isinstance(r, tuple)):
                        changed = True
                        break
            finally:
                client.idle_done()
            return changed
        except (OSError, IMAPClientError, imaplib.IMAP4.error, SourceError) as exc:
            log.warning("%s: IDLE failed (%s); falling back to polling", self.account_key, type(exc).__name__)
            client, self._idle_client = self._idle_client, None
            if client is not None:
                try:
                    client.shutdown()
                except Exception:  # broken connection; best effort
                    pass
            done.wait(max(0.0, deadline - time.monotonic()))
            return False

    def send(self, reply: OutgoingReply) -> Receipt:
        raise SendNotSupported("E-Mail (replies go through the outbox's SMTP sender)")

    def close(self) -> None:
        self._reader.close()
        self._parser.close()
        self._drop()
        client, self._idle_client = self._idle_client, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # best effort on shutdown
                pass


def _flags(raw: Any) -> tuple[str, ...]:
    return tuple(sorted(f.decode("ascii", "replace") if isinstance(f, bytes) else str(f) for f in raw
                        if f not in (b"\\Recent", "\\Recent")))


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
