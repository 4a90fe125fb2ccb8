"""E-mail ingest end to end: a local Dovecot -> IMAP source -> parse -> store, next to each stage alone.

    python benchmarks/bench_ingest.py --messages 20000 --resync-messages 100000

Starts a real Dovecot on 127.0.0.1 (as the tests do), drops the realistic messages of
bench_parse.build() into a fresh mailbox and lets Dovecot index them (not timed). Then:
  imap download       UID FETCH BODY.PEEK[] in batches of 200, nothing else
  stdlib compat32     message_from_bytes, parse only
  deskterm parse      parse_message + record building (what the source does per mail)
  sqlite insert       the parsed text of the same mails into the store's messages table (FTS on)
  end to end          `deskterm sync` of the account from an empty store (SyncEngine.run_once)
  resync unchanged    run_once again with nothing new (median of 5), on a mailbox of
                      --resync-messages messages
Needs root (Dovecot's mail user) and dovecot-imapd installed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keyring  # noqa: E402
from imapclient import IMAPClient  # noqa: E402

from benchmarks.bench_parse import build  # noqa: E402
from deskterm.accounts import add_mail_account  # noqa: E402
from deskterm.sources.engine import SyncEngine  # noqa: E402
from deskterm.sources.mail.records import mail_record  # noqa: E402
from deskterm.sources.mail.settings import MailAccountSettings, ServerSettings  # noqa: E402
from deskterm.sources.registry import sources_for_store  # noqa: E402
from deskterm.store.db import Store  # noqa: E402
from tests.conftest import MemoryKeyring  # noqa: E402
from tests.helpers.dovecot import PASSWORD, Dovecot  # noqa: E402

SELLER = "service@lindenhof-haushalt.de"


def fill_mailbox(server: Dovecot, mails: list[bytes]) -> tuple[str, float]:
    """A fresh user whose INBOX holds `mails`, as after delivery and a first client login.

    The files are written the way Dovecot's own delivery names them (",S=<size>,W=<size
    with CRLF>"), then one read-write SELECT lets Dovecot index them and move them to cur/,
    as happens on any server once a mail client has looked (not timed).
    """
    user = server.add_user()
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=600)
    client.login(user, PASSWORD)
    client.select_folder("INBOX")  # creates the Maildir
    client.unselect_folder()
    new = server.root / "mail" / user / "new"
    stamp = int(time.time())
    for n, raw in enumerate(mails):
        data = raw if b"\r\n" in raw else raw.replace(b"\n", b"\r\n")
        path = new / f"{stamp}.M{n}P{os.getpid()}.bench,S={len(data)},W={len(data)}"
        path.write_bytes(data)
        shutil.chown(path, "dovecot", "dovecot")
    start = time.perf_counter()
    info = client.select_folder("INBOX")
    client.search(["ALL"])
    indexed = time.perf_counter() - start
    client.logout()
    assert int(info[b"EXISTS"]) == len(mails), info
    return user, indexed


def rate(count: int, seconds: float) -> dict[str, float]:
    return {"messages_per_second": round(count / seconds), "seconds": round(seconds, 3)}


def imap_download(server: Dovecot, user: str) -> dict[str, float]:
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=600)
    client.login(user, PASSWORD)
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search(["ALL"]))
    start = time.perf_counter()
    got = 0
    for i in range(0, len(uids), 200):
        got += len(client.fetch(uids[i:i + 200], ["BODY.PEEK[]"]))
    seconds = time.perf_counter() - start
    client.logout()
    return rate(got, seconds)


def sqlite_insert(mails: list[bytes], where: Path) -> dict[str, float]:
    """Raw floor of the store: the mails' parsed text straight into `messages` (FTS triggers
    on, the real schema and pragmas), 500 rows per commit; no threading, no identities."""
    from deskterm.sources.mail.parse import parse_message

    parsed = [parse_message(raw) for raw in mails]
    with Store.open(where) as store:
        conn = store.conn
        with store.transaction():
            conn.execute("INSERT INTO accounts(key, channel, name, settings, created_at) VALUES ('x', 'email', 'x', '{}', 0)")
            conn.execute("INSERT INTO tickets(account_id, external_id, channel, created_at, last_message_at) "
                         "VALUES (1, 't', 'email', 0, 0)")
        start = time.perf_counter()
        for i in range(0, len(parsed), 500):
            with store.transaction():
                conn.executemany(
                    "INSERT INTO messages(account_id, external_id, ticket_id, direction, sender_name, sender_addr, "
                    "sent_at, subject, body_text, body_quoted) VALUES (1, ?, 1, 'in', ?, ?, 0, ?, ?, ?)",
                    [(m.message_id, m.from_name, m.from_addr, m.subject, m.body_text, m.body_quoted)
                     for m in parsed[i:i + 500]])
        return rate(len(parsed), time.perf_counter() - start)


def account_store(server: Dovecot, user: str, where: Path) -> Path:
    settings = MailAccountSettings(ServerSettings("127.0.0.1", server.port, "plain", user, "", allow_plaintext=True,
                                                  timeout=600), None, (SELLER,), folders=("INBOX",))
    with Store.open(where) as store:
        add_mail_account(store, "mail", "Bench", settings, imap_password=PASSWORD)
    return where


def end_to_end(store_path: Path) -> tuple[dict[str, float], SyncEngine]:
    with Store.open(store_path) as store:
        sources = sources_for_store(store)
    engine = SyncEngine(store_path, sources)
    start = time.perf_counter()
    runs = engine.run_once()
    seconds = time.perf_counter() - start
    assert not [r.error for r in runs if r.error], runs
    return rate(sum(r.messages for r in runs), seconds), engine


def resync(engine: SyncEngine) -> dict[str, float]:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        runs = engine.run_once()
        times.append(time.perf_counter() - start)
        assert sum(r.messages for r in runs) == 0
    return {"median_seconds": round(statistics.median(times), 3), "max_seconds": round(max(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--resync-messages", type=int, default=100_000)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())
    work = Path(tempfile.mkdtemp(prefix="deskterm-bench-ingest-"))
    server = Dovecot.start(work / "dovecot")
    try:
        mails = build(args.messages)
        user, indexed = fill_mailbox(server, mails)
        results: dict[str, object] = {"messages": len(mails), "average_bytes": sum(map(len, mails)) // len(mails),
                                      "dovecot_index_seconds": round(indexed, 2)}
        results["imap_download"] = imap_download(server, user)
        start = time.perf_counter()
        for raw in mails:
            message_from_bytes(raw, policy=compat32)
        results["stdlib_compat32_parse"] = rate(len(mails), time.perf_counter() - start)
        start = time.perf_counter()
        for raw in mails:
            mail_record(raw, own_addresses=(SELLER,))
        results["deskterm_parse_and_records"] = rate(len(mails), time.perf_counter() - start)
        results["sqlite_insert"] = sqlite_insert(mails, work / "raw.sqlite3")
        e2e, engine = end_to_end(account_store(server, user, work / "e2e.sqlite3"))
        results["end_to_end"] = e2e
        results["resync_unchanged_small"] = resync(engine)
        for source in engine.sources:
            source.close()
        if args.resync_messages:
            big = build(args.resync_messages)
            big_user, big_indexed = fill_mailbox(server, big)
            initial, big_engine = end_to_end(account_store(server, big_user, work / "big.sqlite3"))
            results["large_mailbox"] = {"messages": len(big), "dovecot_index_seconds": round(big_indexed, 2),
                                        "initial_sync": initial, "resync_unchanged": resync(big_engine)}
            for source in big_engine.sources:
                source.close()
        stages = {k: results[k]["messages_per_second"] for k in  # type: ignore[index]
                  ("imap_download", "deskterm_parse_and_records", "sqlite_insert")}
        slowest = min(stages.values())
        results["slowest_stage"] = min(stages, key=stages.get)  # type: ignore[arg-type]
        results["end_to_end_share_of_slowest_stage"] = round(e2e["messages_per_second"] / slowest, 2)
        print(json.dumps(results, indent=2))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
