"""`deskterm gdpr ...` and `deskterm audit verify`: find and erase a person, check the audit chain."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from pathlib import Path

from deskterm.cli_args import action_parser
from dataclasses import asdict
from datetime import datetime, timezone

from deskterm.domain.format import day
from deskterm.domain.gdpr_requests import RequestKind, due_at
from deskterm.domain.retention import RetentionPolicy
from deskterm.store.audit import append_audit
from deskterm.store.gdpr_register import (
    RegisterError,
    close_request,
    dismiss_flag,
    extend_request,
    has_consent,
    open_flags,
    open_requests,
    plan_retention,
    record_consent,
    register_from_flag,
    register_request,
    reminders,
    run_retention,
    verify_requester,
    withdraw_consent,
)
from deskterm.store.audit import verify_audit
from deskterm.store.db import Store
from deskterm.store.gdpr import ErasureError, erase_person, find_person, plan_erasure, scrub_files


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    gdpr = sub.add_parser("gdpr", help="find or erase everything held about one person (GDPR Art. 15/17)")
    actions = gdpr.add_subparsers(dest="gdpr_command", metavar="ACTION", required=True)
    find = action_parser(actions, "find", help="count everything held about a customer (and customers merged into it)")
    find.add_argument("customer_id", type=int)
    find.add_argument("--json", action="store_true")
    export = action_parser(actions, "export", help="write a ZIP with everything held about a customer (Art. 15/20)")
    export.add_argument("customer_id", type=int)
    export.add_argument("--out", type=Path, required=True, help="where the ZIP goes (written with mode 0600)")
    export.add_argument("--json", action="store_true")
    erase = action_parser(actions, "erase", help="erase a customer; invoice-relevant orders are restricted, not deleted")
    erase.add_argument("customer_id", type=int)
    erase.add_argument("--dry-run", action="store_true", help="show what would be erased and kept; change nothing")
    erase.add_argument("--yes", action="store_true", help="really erase (required unless --dry-run)")
    erase.add_argument("--vacuum", action="store_true", help="also VACUUM the store (slow on a big store)")
    erase.add_argument("--json", action="store_true")
    requests = action_parser(actions, "requests", help="open data-subject requests (due dates) and flagged messages")
    requests.add_argument("--json", action="store_true")
    request = action_parser(actions, "request", help="register and handle a data-subject request")
    request.add_argument("step", choices=("add", "from-flag", "dismiss-flag", "extend", "verify", "done", "reject"))
    request.add_argument("id", type=int, help="customer id (add; with --ticket a ticket id), ticket id (from-flag, "
                                              "dismiss-flag), request id (the other steps)")
    request.add_argument("--ticket", action="store_true", help="with add: ID is the ticket the request came in")
    request.add_argument("--kind", choices=[str(k) for k in RequestKind], help="with add")
    request.add_argument("--received", help="with add: date received, YYYY-MM-DD (default today)")
    request.add_argument("--reason", default="", help="with extend: why more time is needed")
    request.add_argument("--evidence", default="", help="with verify: how the identity was checked")
    request.add_argument("--failed", action="store_true", help="with verify: the identity could not be verified")
    consent = action_parser(actions, "consent", help="record, withdraw or check a customer's consent")
    consent.add_argument("step", choices=("add", "withdraw", "check"))
    consent.add_argument("customer_id", type=int)
    consent.add_argument("--purpose", required=True, help="e.g. feedback, marketing")
    consent.add_argument("--text", default="", help="with add: the wording agreed to")
    consent.add_argument("--version", default="1", help="with add: version of that wording")
    consent.add_argument("--channel", default="", help="with add: where it was given")
    consent.add_argument("--evidence", default="", help="with add: proof (message id, form, ...)")
    retention = action_parser(actions, "retention", help="preview (or --run) deletion of data past its retention")
    retention.add_argument("--run", action="store_true")
    retention.add_argument("--json", action="store_true")
    scrub = action_parser(actions, "scrub", help="purge deleted text from the search index and empty the WAL")
    scrub.add_argument("--vacuum", action="store_true")
    audit = sub.add_parser("audit", help="check the audit log's hash chain")
    audit_actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    action_parser(audit_actions, "verify", help="recompute the chain; name the first entry that was changed")


def run_gdpr(args: argparse.Namespace, store: Store, *, policy: RetentionPolicy, actor: str | None) -> int:
    actor = actor or getpass.getuser()
    conn = store.conn
    now = int(time.time())
    if args.gdpr_command == "find":
        data = find_person(conn, args.customer_id, policy=policy)
        with store.transaction() as tx:  # viewing a person's full data is itself recorded
            append_audit(tx, now, actor, "gdpr.viewed", f"customer:{data.customers[0]}")
        _print(data.as_dict(), as_json=args.json)
        return 0
    if args.gdpr_command in ("requests", "request", "consent", "retention"):
        return _register(args, store, policy=policy, actor=actor, now=now)
    if args.gdpr_command == "export":
        from deskterm.store.gdpr_export import export_person

        with store.transaction() as tx:
            result = export_person(tx, args.customer_id, args.out, now=int(time.time()), actor=actor)
        _print({"path": str(result.path), "sha256": result.sha256, "files": result.files,
                "messages": result.messages, "attachments": result.attachments, "orders": result.orders},
               as_json=args.json)
        return 0
    if args.gdpr_command == "scrub":
        _print(scrub_files(conn, vacuum=args.vacuum), as_json=False)
        return 0
    started = time.perf_counter()
    plan = plan_erasure(conn, args.customer_id, policy=policy)
    planned = time.perf_counter()
    if args.dry_run:
        _print({"dry_run": True, **plan.receipt(), "found": plan.data.as_dict(),
                "seconds": {"find_and_plan": round(planned - started, 3)}}, as_json=args.json)
        return 0
    if not args.yes:
        raise ErasureError("erasing cannot be undone: look at --dry-run first, then repeat with --yes")
    with store.transaction() as tx:
        receipt = erase_person(tx, plan, now=int(time.time()), actor=actor)
    erased = time.perf_counter()
    receipt["scrub"] = scrub_files(conn, vacuum=args.vacuum)
    receipt["seconds"] = {"find_and_plan": round(planned - started, 3), "erase": round(erased - planned, 3),
                          "scrub": round(time.perf_counter() - erased, 3)}
    _print(receipt, as_json=args.json)
    return 0


def _register(args: argparse.Namespace, store: Store, *, policy: RetentionPolicy, actor: str, now: int) -> int:
    conn = store.conn
    if args.gdpr_command == "requests":
        due_soon, overdue, flags = reminders(conn, now)
        _print({"due_within_7_days": due_soon, "overdue": overdue,
                "requests": [{**asdict(r), "due": day(r.due_at), "received": day(r.received_at)}
                             for r in open_requests(conn)],
                "flags": [{**asdict(f), "received": day(f.received_at)} for f in open_flags(conn)]}, as_json=args.json)
        return 0
    if args.gdpr_command == "retention":
        plan = plan_retention(conn, now, policy)
        if not args.run:
            _print({"preview": True, **plan.as_dict()}, as_json=args.json)
            return 0
        with store.transaction() as tx:
            summary = run_retention(tx, plan, now=now, actor=actor)
        _print({"deleted": summary, "scrub": scrub_files(conn)}, as_json=args.json)
        return 0
    with store.transaction() as tx:
        if args.gdpr_command == "consent":
            if args.step == "add":
                print(f"consent {record_consent(tx, args.customer_id, purpose=args.purpose, text=args.text, version=args.version, channel=args.channel, evidence=args.evidence, now=now, actor=actor)} recorded")
            elif args.step == "withdraw":
                print(f"{withdraw_consent(tx, args.customer_id, args.purpose, now=now, actor=actor)} consent(s) withdrawn")
            else:
                given = has_consent(tx, args.customer_id, args.purpose)
                print("consent given" if given else "no consent")
                return 0 if given else 1
            return 0
        if args.step == "add":
            if not args.kind:
                raise RegisterError("add needs --kind")
            received = int(datetime.strptime(args.received, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()) \
                if args.received else now
            request_id = register_request(tx, args.kind, received_at=received, now=now, actor=actor,
                                          **({"ticket_id": args.id} if args.ticket else {"customer_id": args.id}))
            print(f"request {request_id} registered, due {day(due_at(received))}")
        elif args.step == "from-flag":
            print(f"request {register_from_flag(tx, args.id, now=now, actor=actor)} registered")
        elif args.step == "dismiss-flag":
            dismiss_flag(tx, args.id, now=now, actor=actor)
            print(f"flag on ticket {args.id} dismissed")
        elif args.step == "extend":
            print(f"request {args.id} now due {day(extend_request(tx, args.id, args.reason, now=now, actor=actor))}")
        elif args.step == "verify":
            verify_requester(tx, args.id, verified=not args.failed, evidence=args.evidence, now=now, actor=actor)
            print(f"request {args.id}: identity {'not ' if args.failed else ''}verified")
        else:
            close_request(tx, args.id, done=args.step == "done", now=now, actor=actor)
            print(f"request {args.id} {args.step}")
    return 0


def run_audit(args: argparse.Namespace, store: Store) -> int:
    check = verify_audit(store.conn)
    if check.ok:
        print(f"audit log intact: {check.entries} entries")
        return 0
    print(f"audit log TAMPERED: {check.problem}", file=sys.stderr)
    return 1


def _print(value: dict[str, object], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))
        return
    for key, item in value.items():
        print(f"{key}: {json.dumps(item, ensure_ascii=False) if isinstance(item, (dict, list)) else item}")


__all__ = ["ErasureError", "RegisterError", "add_parsers", "run_audit", "run_gdpr"]
