"""`deskterm customer ...`: the customer actions of the ticket screen, for scripts and admins."""

from __future__ import annotations

import argparse
import getpass
import time
from collections.abc import Callable

from deskterm.cli_args import action_parser
from deskterm.domain.sanitize import clean_line
from deskterm.store.audit import append_audit
from deskterm.store.customers import (
    MergeError,
    answer_link_suggestion,
    answer_suggestion,
    merges_of,
    open_suggestions,
    unmerge,
)
from deskterm.store.db import Store
from deskterm.store.order_context import customer_orders, customer_summary, customer_timeline, order_detail
from deskterm.domain.format import euro, local_time, mask


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    customer = sub.add_parser("customer", help="show a customer across channels; merge, unmerge, link orders")
    actions = customer.add_subparsers(dest="customer_command", metavar="ACTION", required=True)
    show = action_parser(actions, "show", help="identities, orders, merges and recent messages of a customer")
    show.add_argument("customer_id", type=int)
    show.add_argument("--reveal", action="store_true", help="show full shipping addresses (recorded in the audit log)")
    action_parser(actions, "suggestions", help="open 'maybe the same person' suggestions")
    for name, text in (("accept", "merge the two customers of a suggestion"), ("reject", "keep them apart")):
        action = action_parser(actions, name, help=text)
        action.add_argument("suggestion_id", type=int)
    undo = action_parser(actions, "unmerge", help="undo a merge exactly (see 'show' for merge ids)")
    undo.add_argument("merge_id", type=int)
    link = action_parser(actions, "link", help="answer an order-link suggestion of a ticket")
    link.add_argument("answer", choices=("accept", "reject"))
    link.add_argument("link_suggestion_id", type=int)


def run(args: argparse.Namespace, store: Store, *, actor: str | None = None) -> int:
    actor = actor or getpass.getuser()
    command: Callable[[argparse.Namespace, Store, str], int] = {
        "show": _show, "suggestions": _suggestions, "accept": _answer, "reject": _answer,
        "unmerge": _unmerge, "link": _link,
    }[args.customer_command]
    return command(args, store, actor)


def _show(args: argparse.Namespace, store: Store, actor: str) -> int:
    conn = store.conn
    summary = customer_summary(conn, args.customer_id)
    if summary is None:
        raise MergeError(f"no customer {args.customer_id}")
    print(f"customer {summary.id}: {clean_line(summary.display_name)} · {summary.order_count} orders · "
          f"{euro(summary.lifetime_cents)} · {'returning' if summary.returning else 'first-time'}")
    for kind, value in summary.identities:
        print(f"  identity {kind}: {clean_line(value)}")
    revealed = []
    for order_id in customer_orders(conn, summary.id)[:10]:
        order = order_detail(conn, order_id)
        if order is None:
            continue
        address = ", ".join(v for v in (order.ship_to.get("name", ""), order.ship_to.get("street", ""),
                                        order.ship_to.get("postcode", ""), order.ship_to.get("city", "")) if v)
        shown = clean_line(address) if args.reveal else mask(clean_line(address))
        print(f"  order {clean_line(order.number)} ({order.channel}) {order.status} {euro(order.total_cents)}: {shown}")
        revealed.append(order_id)
    for merge in merges_of(conn, summary.id):
        state = f"undone {local_time(merge.undone_at)}" if merge.undone_at else "active"
        print(f"  merge {merge.id}: customer {merge.merged} into {merge.kept} ({state}): {clean_line(merge.reason)}")
    for suggestion in open_suggestions(conn, summary.id):
        print(f"  suggestion {suggestion.id}: {clean_line(suggestion.reason)} "
              f"(customers {suggestion.customer_a}, {suggestion.customer_b})")
    for entry in customer_timeline(conn, summary.id, limit=20):
        print(f"  {local_time(entry.sent_at)} {entry.channel:<9} {entry.direction:<4} ticket {entry.ticket_id}: "
              f"{clean_line(entry.snippet, max_chars=80)}")
    if args.reveal and revealed:
        with store.transaction() as tx:
            for order_id in revealed:
                append_audit(tx, int(time.time()), actor, "order.address_revealed", f"order:{order_id}", {"via": "cli"})
    return 0


def _suggestions(args: argparse.Namespace, store: Store, actor: str) -> int:
    rows = store.conn.execute(
        "SELECT id, customer_a, customer_b, reason FROM merge_suggestions WHERE status = 'open' ORDER BY id LIMIT 200")
    for suggestion_id, a, b, reason in rows:
        print(f"{suggestion_id}\t{a}\t{b}\t{clean_line(reason)}")
    return 0


def _answer(args: argparse.Namespace, store: Store, actor: str) -> int:
    with store.transaction() as conn:
        answer_suggestion(conn, args.suggestion_id, accept=args.customer_command == "accept", now=int(time.time()),
                          actor=actor)
    print(f"suggestion {args.suggestion_id} {args.customer_command}ed")
    return 0


def _unmerge(args: argparse.Namespace, store: Store, actor: str) -> int:
    with store.transaction() as conn:
        unmerge(conn, args.merge_id, now=int(time.time()), actor=actor)
    print(f"merge {args.merge_id} undone")
    return 0


def _link(args: argparse.Namespace, store: Store, actor: str) -> int:
    with store.transaction() as conn:
        answer_link_suggestion(conn, args.link_suggestion_id, accept=args.answer == "accept", now=int(time.time()),
                               actor=actor)
    print(f"order link {args.link_suggestion_id} {args.answer}ed")
    return 0
