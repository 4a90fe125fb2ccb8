"""Maildir source (stdlib `mailbox`): for sellers who already sync mail with mbsync or offlineimap.

Maildir has no UIDs; a message's unique file key (the name before ":2,") is stable across
flag changes and the new/ -> cur/ move, so the key, hashed to an integer, is its location
uid (UIDVALIDITY 0). Keys begin with the delivery time, so new mail sorts after the
cursor's last key. The cursor also keeps the folder's message count and the mtime of cur/:

* nothing changed (same mtimes, same count): no file is opened;
* fewer keys up to the cursor than counted: some were deleted, their locations are forgotten
  (the mails stay in the store); more than counted: a key sorted in below the cursor and
  the folder is read again (idempotent: stored mails are not duplicated);
* cur/ changed: flags are re-read from the file names (renames change only flags).
"""

from __future__ import annotations

import hashlib
import json
import mailbox
import os
from datetime import datetime, timezone
from pathlib import Path

from deskterm.model import Batch, Channel, MailFlags, MailFolderState, MailLocation
from deskterm.sources.base import Capabilities, OutgoingReply, Receipt, SendNotSupported, SourceError
from deskterm.sources.mail.records import mail_record
from deskterm.sources.mail.settings import MailAccountSettings

_FLAG_NAMES = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}


def key_uid(key: str) -> int:
    """A stable 56-bit integer for a Maildir key (fits SQLite's INTEGER)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=7).digest(), "big")


class MaildirSource:
    """One local Maildir tree; folders as configured ("INBOX" is the top level)."""

    capabilities = Capabilities(can_send=True, has_orders=False, has_messages=True)

    def __init__(self, account_key: str, account_name: str, settings: MailAccountSettings,
                 *, channel: Channel = Channel.EMAIL) -> None:
        self.account_key = account_key
        self.account_name = account_name
        self.channel = channel
        self.settings = settings
        self.root = Path(settings.maildir).expanduser()
        self.streams = settings.folders

    def _folder_path(self, folder: str) -> Path:
        if folder.upper() == "INBOX":
            return self.root
        for candidate in (self.root / f".{folder}", self.root / folder):  # Maildir++ or mbsync "Verbatim"
            if (candidate / "cur").is_dir():
                return candidate
        raise SourceError(f"Maildir {self.root}: no folder {folder!r}", temporary=False)

    def pull(self, stream: str, cursor: str | None) -> Batch:
        path = self._folder_path(stream)
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise SourceError(f"{path} is not a Maildir (no cur/ and new/)", temporary=False)
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            raise SourceError("Maildir cursor unreadable; reset the account", temporary=False) from None
        stamp = [os.stat(path / "new").st_mtime_ns, os.stat(path / "cur").st_mtime_ns]
        last = str(state.get("last", ""))
        batch = Batch(cursor=cursor)
        if state.get("stamp") == stamp:
            return batch
        box = mailbox.Maildir(str(path), factory=None, create=False)
        infos = _listing(path)
        keys = sorted(infos)
        known = [k for k in keys if k <= last] if last else []
        if last and len(known) != int(state.get("n", 0)):
            if len(known) < int(state.get("n", 0)):
                batch.folder_states.append(MailFolderState(stream, 0, 2 ** 56,
                                                           frozenset(key_uid(k) for k in known)))
            else:
                last, known = "", []  # a key sorted in below the cursor: read the folder again
        if known and state.get("stamp", [0, 0])[1] != stamp[1]:
            batch.mail_flags.extend(MailFlags(MailLocation(stream, 0, key_uid(k)), _flags(infos[k])) for k in known)
        new = [k for k in keys if k > last] if last else keys
        take = new[:self.settings.batch_messages]
        sent = stream == self.settings.sent_folder
        for key in take:
            try:
                raw = box.get_bytes(key)
            except (KeyError, FileNotFoundError):
                continue  # moved or deleted meanwhile: the next pull sees it again
            batch.mails.append(mail_record(raw, own_addresses=self.settings.addresses, is_sent_folder=sent,
                                           location=MailLocation(stream, 0, key_uid(key)),
                                           flags=_flags(infos[key]), received_at=_delivered(key)))
        if take:
            last = take[-1]
        more = len(new) > len(take)
        batch.cursor = json.dumps({"last": last, "n": len(known) + len(take), "stamp": None if more else stamp},
                                  sort_keys=True)
        batch.has_more = more
        batch.backlog = len(new) - len(take)
        return batch

    def send(self, reply: OutgoingReply) -> Receipt:
        raise SendNotSupported("E-Mail (replies go through the outbox's SMTP sender)")

    def close(self) -> None:
        pass


def _listing(path: Path) -> dict[str, str]:
    """Every message key of a Maildir folder with its info suffix ("2,FS"); new/ has none."""
    infos: dict[str, str] = {}
    for sub in ("new", "cur"):
        for name in os.listdir(path / sub):
            if name.startswith("."):
                continue
            key, _, info = name.partition(":")
            infos[key] = info
    return infos


def _flags(info: str) -> tuple[str, ...]:
    letters = info[2:] if info.startswith("2,") else ""
    return tuple(sorted(_FLAG_NAMES[c] for c in letters if c in _FLAG_NAMES))


def _delivered(key: str) -> datetime | None:
    """Delivery time from the key's leading timestamp (when the mail has no usable Date)."""
    head = key.split(".", 1)[0]
    return datetime.fromtimestamp(int(head), timezone.utc) if head.isdigit() else None
