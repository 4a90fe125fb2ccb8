"""`deskterm gdpr ...` and `deskterm audit verify`: find and erase a person, check the audit chain."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from pathlib import Path

from deskterm.cli_args import action_parser
from deskterm.domain.retention import RetentionPolicy
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
    scrub = action_parser(actions, "scrub", help="purge deleted text from the search index and empty the WAL")
    scrub.add_argument("--vacuum", action="store_true")
    audit = sub.add_parser("audit", help="check the audit log's hash chain")
    audit_actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = action_parser(audit_actions, "verify", help="recompute the chain; name the first entry that was changed")


def run_gdpr(args: argparse.Namespace, store: Store, *, policy: RetentionPolicy, actor: str | None) -> int:
    actor = actor or getpass.getuser()
    conn = store.conn
    if args.gdpr_command == "find":
        data = find_person(conn, args.customer_id, policy=policy)
        _print(data.as_dict(), as_json=args.json)
        return 0
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


__all__ = ["ErasureError", "add_parsers", "run_audit", "run_gdpr"]
