"""`deskterm accounts ...`, `deskterm outbox ...`, `deskterm mail fetch`.

Mail accounts and the outbox from the command line, for scripts and for servers
without a terminal UI. Passwords are asked for (or read from stdin), never taken as an
argument: arguments end up in shell history and process lists.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from deskterm.cli_args import action_parser
from deskterm.sources.base import MARKETPLACE_CREDENTIALS
from deskterm.domain.format import local_time
from deskterm.domain.sanitize import clean_line
from deskterm.store.db import Store

SECURITY_HELP = "tls (implicit, default), starttls, or plain (needs --allow-plaintext; loopback tests only)"


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    accounts = sub.add_parser("accounts", help="list and add accounts (mail, Maildir, Kaufland, eBay, Amazon, Zalando, OTTO)")
    actions = accounts.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)
    action_parser(actions, "list", help="every account of the profile with its source and last sync")
    add = action_parser(actions, "add", help="add an account; the connection is tested before anything is saved")
    kinds = add.add_subparsers(dest="kind", metavar="KIND", required=True)
    imap = action_parser(kinds, "imap", help="an IMAP mailbox, with SMTP for replies")
    _common(imap)
    imap.add_argument("--host", required=True, help="IMAP server")
    imap.add_argument("--port", type=int, default=None, help="IMAP port (default 993 for tls, 143 otherwise)")
    imap.add_argument("--security", default="tls", choices=("tls", "starttls", "plain"), help=SECURITY_HELP)
    imap.add_argument("--user", required=True, help="IMAP login")
    imap.add_argument("--folders", default="INBOX,Sent", help="folders to follow, comma-separated")
    imap.add_argument("--sent-folder", default="Sent", help="where copies of sent replies are filed")
    imap.add_argument("--smtp-host", help="SMTP server for replies (default: none, replies cannot be sent)")
    imap.add_argument("--smtp-port", type=int, default=None, help="SMTP port (default 465 for tls, 587 otherwise)")
    imap.add_argument("--smtp-security", default="tls", choices=("tls", "starttls", "plain"), help=SECURITY_HELP)
    imap.add_argument("--smtp-user", default=None, help="SMTP login (default: the IMAP login)")
    imap.add_argument("--separate-smtp-password", action="store_true", help="ask for a second password for SMTP")
    imap.add_argument("--allow-plaintext", action="store_true", help="allow --security plain (unencrypted)")
    imap.add_argument("--ca-file", default="", help="trust this CA certificate too (a self-hosted server's own CA)")
    imap.add_argument("--max-message-mb", type=float, default=25.0,
                      help="larger mails are stored as a placeholder and fetched on demand")
    imap.add_argument("--password-stdin", action="store_true", help="read the password(s) from stdin, one per line")
    imap.add_argument("--no-test", action="store_true", help="save without testing the login (not recommended)")
    maildir = action_parser(kinds, "maildir", help="a local Maildir kept in sync by mbsync or offlineimap")
    _common(maildir)
    maildir.add_argument("--path", required=True, help="the Maildir's top folder (with cur/, new/, tmp/)")
    maildir.add_argument("--folders", default="INBOX,Sent", help="folders to follow, comma-separated")
    maildir.add_argument("--sent-folder", default="Sent")
    for kind, text in MARKETPLACE_HELP.items():
        market = action_parser(kinds, kind, help=text)
        market.add_argument("--key", required=True, help="a short name for the account, e.g. kaufland-de")
        market.add_argument("--name", default=None, help="how the account is shown (default: the key)")
        market.add_argument("--base-url", default="", help="the API's address (default: the vendor's production URL)")
        if kind == "ebay":
            market.add_argument("--seller", required=True, help="your eBay user name (to tell your messages apart)")
        if kind == "zalando":
            market.add_argument("--merchant-id", required=True, help="your zDirect merchant id")
        if kind == "meta":
            market.add_argument("--platform", required=True, choices=("messenger", "instagram"))
            market.add_argument("--node-id", required=True, help="the Facebook Page id or Instagram account id")
            market.add_argument("--human-agent", action="store_true",
                                help="the app has Meta's Human Agent feature (replies up to 7 days)")
        market.add_argument("--secrets-stdin", action="store_true",
                            help=f"read {', '.join(MARKETPLACE_CREDENTIALS[kind])} from stdin, one per line")
        market.add_argument("--no-test", action="store_true", help="save without a test request (not recommended)")

    outbox = sub.add_parser("outbox", help="replies waiting to leave: list, send now, retry a failed one")
    outbox_actions = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    action_parser(outbox_actions, "list", help="queued, failed and recent replies")
    action_parser(outbox_actions, "send", help="send every due reply now")
    retry = action_parser(outbox_actions, "retry", help="queue a failed reply again")
    retry.add_argument("outbox_id", type=int)

    mail = sub.add_parser("mail", help="e-mail helpers")
    mail_actions = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    fetch = action_parser(mail_actions, "fetch", help="download a large mail that was stored as a placeholder")
    fetch.add_argument("message", help="the Message-ID shown in the placeholder (or the message's row number)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", required=True, help="short account key, e.g. 'mail' or 'amazon-mail'")
    parser.add_argument("--name", default=None, help="display name (default: the key)")
    parser.add_argument("--address", action="append", default=[], required=True,
                        help="the shop's own address (repeatable); mail from it counts as a reply")


def run_accounts(args: argparse.Namespace, store: Store) -> int:
    if args.accounts_command == "list":
        return _list_accounts(store)
    if args.kind in MARKETPLACE_HELP:
        return _add_marketplace(args, store)
    from deskterm.accounts import add_mail_account
    from deskterm.sources.mail.settings import DEFAULT_MAX_MESSAGE_BYTES, MailAccountSettings, ServerSettings

    folders = tuple(f.strip() for f in args.folders.split(",") if f.strip())
    if args.kind == "maildir":
        settings = MailAccountSettings(None, None, tuple(args.address), folders, args.sent_folder, maildir=args.path)
        add_mail_account(store, args.key, args.name or args.key, settings, imap_password="", test_connection=False)
        print(f"added Maildir account {args.key}; run 'deskterm sync' to read it")
        return 0
    default_port = 993 if args.security == "tls" else 143
    imap = ServerSettings(args.host, args.port or default_port, args.security, args.user, "",
                          allow_plaintext=args.allow_plaintext, ca_file=args.ca_file)
    smtp = None
    if args.smtp_host:
        smtp_port = args.smtp_port or (465 if args.smtp_security == "tls" else 587)
        smtp = ServerSettings(args.smtp_host, smtp_port, args.smtp_security, args.smtp_user or args.user, "",
                              allow_plaintext=args.allow_plaintext, ca_file=args.ca_file)
    max_bytes = int(args.max_message_mb * 1024 * 1024) if args.max_message_mb else DEFAULT_MAX_MESSAGE_BYTES
    settings = MailAccountSettings(imap, smtp, tuple(args.address), folders, args.sent_folder,
                                   max_message_bytes=max_bytes)
    password, smtp_password = _passwords(args)
    add_mail_account(store, args.key, args.name or args.key, settings, imap_password=password,
                     smtp_password=smtp_password, test_connection=not args.no_test)
    print(f"added IMAP account {args.key} ({args.user} at {args.host}); the password is in the keyring")
    return 0


MARKETPLACE_HELP = {
    "kaufland": "Kaufland Seller API (client key and secret key from the seller portal)",
    "ebay": "eBay (OAuth app id, secret and your user refresh token)",
    "amazon": "Amazon SP-API (LWA client id, secret and the seller's refresh token)",
    "zalando": "Zalando zDirect (client id and secret)",
    "otto": "OTTO Market (client id and secret)",
    "meta": "Facebook Messenger or Instagram (a page access token)",
}


def _add_marketplace(args: argparse.Namespace, store: Store) -> int:
    from deskterm.accounts import add_marketplace_account

    names = MARKETPLACE_CREDENTIALS[args.kind]
    if args.secrets_stdin:
        lines = sys.stdin.read().splitlines()
        values = dict(zip(names, (line.strip() for line in lines)))
    else:
        values = {n: getpass.getpass(f"{n.replace('_', ' ')}: ") for n in names}
    extra: dict[str, object] = {"seller": args.seller} if args.kind == "ebay" else {}
    if args.kind == "zalando":
        extra["merchant_id"] = args.merchant_id
    if args.kind == "meta":
        extra.update(platform=args.platform, node_id=args.node_id, human_agent=args.human_agent)
    add_marketplace_account(store, args.kind, args.key, args.name or args.key, credentials=values,
                            base_url=args.base_url, extra=extra, test_connection=not args.no_test)
    print(f"added {args.kind} account {args.key}; its credentials are in the keyring")
    return 0


def _passwords(args: argparse.Namespace) -> tuple[str, str | None]:
    if args.password_stdin:
        lines = sys.stdin.read().splitlines()
        password = lines[0] if lines else ""
        smtp = lines[1] if args.separate_smtp_password and len(lines) > 1 else None
        return password, smtp
    password = getpass.getpass(f"IMAP password for {args.user}: ")
    smtp = getpass.getpass("SMTP password: ") if args.separate_smtp_password else None
    return password, smtp


def _list_accounts(store: Store) -> int:
    from deskterm.store.status import account_overview

    accounts = account_overview(store.conn)
    for account in accounts:
        synced = local_time(account.last_success) if account.last_success else "never"
        error = f"  error: {clean_line(account.last_error)}" if account.state == "error" and account.last_error else ""
        print(f"{account.key}\t{account.channel}\t{account.source}\t{clean_line(account.name)}\t"
              f"{clean_line(account.location)}\tlast sync {synced}{error}")
    if not accounts:
        print("no accounts; add one with 'deskterm accounts add imap ...'")
    return 0


def run_outbox(args: argparse.Namespace, store: Store) -> int:
    from deskterm.sources.outbox_sender import OutboxSender
    from deskterm.store.outbox import OutboxError, outbox_overview, retry_failed

    if args.outbox_command == "send":
        report = OutboxSender(store).deliver_due()
        print(f"sent {report.sent}, retrying later {report.retrying}, failed {len(report.failed)}, "
              f"filed in Sent {report.copies}")
        for error in report.failed:
            print(f"✗ {clean_line(error)}")
        return 1 if report.failed else 0
    if args.outbox_command == "retry":
        if not retry_failed(store, args.outbox_id, now=int(time.time())):
            raise OutboxError(f"reply {args.outbox_id} is not a failed reply")
        print(f"reply {args.outbox_id} queued again")
        return 0
    entries = outbox_overview(store.conn)
    for entry in entries:
        note = f"  {clean_line(entry.last_error)}" if entry.last_error and entry.status != "sent" else ""
        print(f"{entry.id}\tticket {entry.ticket_id}\t{entry.status}\t{entry.attempts} tries\t"
              f"{', '.join(entry.to_addrs)}\t{local_time(entry.sent_at or entry.created_at)}{note}")
    if not entries:
        print("the outbox is empty")
    return 0


def run_mail(args: argparse.Namespace, store: Store) -> int:
    from deskterm.sources.mail.fetch import fetch_whole_message

    from deskterm.sources.base import SourceError

    wanted = args.message.strip().strip("<>")
    row = store.conn.execute("SELECT id FROM messages WHERE external_id = ? ORDER BY id LIMIT 1", (wanted,)).fetchone()
    if row is None and wanted.isdigit():
        row = (int(wanted),)
    if row is None:
        raise SourceError(f"no stored mail with Message-ID <{wanted}>", temporary=False)
    fetch_whole_message(store, int(row[0]))
    print(f"message <{wanted}> downloaded")
    return 0
