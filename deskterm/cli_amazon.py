"""`deskterm amazon`: the typed messages Amazon permits on an order (Messaging API).

Buyer messages are answered by e-mail to the relay address; these are Amazon's own
proactive message types (confirm delivery details, report an unexpected problem ...),
offered only where Amazon allows them for the order right now.
"""

from __future__ import annotations

import argparse
import time

from deskterm.cli_args import action_parser
from deskterm.domain.sanitize import clean_line
from deskterm.store.db import Store


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    amazon = sub.add_parser("amazon", help="Amazon's typed messages on an order (Messaging API)")
    actions = amazon.add_subparsers(dest="amazon_command", metavar="ACTION", required=True)
    listing = action_parser(actions, "actions", help="which typed messages Amazon permits on the order now")
    listing.add_argument("order")
    listing.add_argument("--account", default=None, help="the SP-API account (default: the first one)")
    send = action_parser(actions, "message", help="send one of them (text-only kinds)")
    send.add_argument("order")
    send.add_argument("action", help="e.g. confirmDeliveryDetails, unexpectedProblem")
    send.add_argument("--text", required=True)
    send.add_argument("--account", default=None)
    send.add_argument("--ticket", type=int, default=None, help="also record it as a note on this ticket")


def run(args: argparse.Namespace, store: Store, *, agent: str) -> int:
    from deskterm.sources.amazon import AmazonSource
    from deskterm.sources.base import SourceError
    from deskterm.sources.registry import source_for_account

    key = args.account
    if key is None:
        row = store.conn.execute("SELECT key FROM accounts WHERE json_extract(settings, '$.source') = 'amazon' "
                                 "ORDER BY id LIMIT 1").fetchone()
        if row is None:
            raise SourceError("no Amazon SP-API account in this profile ('deskterm accounts add amazon')",
                              temporary=False)
        key = row[0]
    source = source_for_account(store, key)
    try:
        if not isinstance(source, AmazonSource):
            raise SourceError(f"{key} is not an Amazon SP-API account", temporary=False)
        if args.amazon_command == "actions":
            for name, label in source.messaging_actions(args.order):
                print(f"{name}\t{label}")
            return 0
        source.send_typed_message(args.order, args.action, args.text)
    finally:
        source.close()
    if args.ticket is not None:
        from deskterm.store.replies import add_note

        add_note(store, args.ticket, f"Amazon-Nachricht „{args.action}“ gesendet:\n{args.text}", author=agent,
                 now=int(time.time()))
    print(f"sent {clean_line(args.action)} for order {clean_line(args.order)}")
    return 0
