"""`deskterm search`, `deskterm triage`, `deskterm views`, `deskterm report`: what the inbox's
search, triage keys and report screen do, for scripts and for agents over SSH."""

from __future__ import annotations

import argparse
import json
import sys
import time

from deskterm.cli_args import action_parser
from deskterm.config import Config, current_agent
from deskterm.domain.sanitize import clean_line
from deskterm.store.db import Store

TRIAGE_HELP = """examples:
  deskterm triage resolve --query "channel:amazon intent:auto_reply"
  deskterm triage snooze morgen --ids 12,13
  deskterm triage assign Anna --query "intent:return -status:resolved"
  deskterm triage tag vip -rückfrage --ids 12
  deskterm triage no-response "Dankesnachricht" --ids 12
  deskterm triage intent return --ids 12
  deskterm triage undo"""


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    search = sub.add_parser("search", help="search tickets with the inbox's search language",
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog="filters: channel: from: order: status: tag: assignee: queue: intent: priority: "
                                   "due:<4h before: after: is:unread|overdue|snoozed|mine|unassigned sort:due; "
                                   "-x negates; a,b means either")
    search.add_argument("query", nargs="+", help="words, \"a phrase\", prefix*, and filters such as channel:amazon")
    search.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--json", action="store_true", help="one JSON object per ticket")

    triage = sub.add_parser("triage", help="resolve, snooze, assign, tag ... tickets by id or by query; undo",
                            formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TRIAGE_HELP)
    actions = triage.add_subparsers(dest="triage_command", metavar="ACTION", required=True)
    for name, text in (("resolve", "mark resolved"), ("reopen", "open again"),
                       ("pending", "waiting for the customer (pauses the clock where the policy allows)")):
        _targets(action_parser(actions, name, help=text))
    snooze = _targets(action_parser(actions, "snooze", help="hide until a time: 1h, 2d, morgen, montag, 14:00, "
                                                             "2026-12-24 10:00"))
    snooze.add_argument("until")
    assign = _targets(action_parser(actions, "assign", help="assign to an agent ('none' removes)"))
    assign.add_argument("agent")
    queue = _targets(action_parser(actions, "queue", help="put in a queue ('none' removes)"))
    queue.add_argument("queue")
    tag = _targets(action_parser(actions, "tag", help="add tags; -tag removes one"))
    tag.add_argument("tags", nargs="+")
    priority = _targets(action_parser(actions, "priority", help="urgent, high, normal or low"))
    priority.add_argument("level")
    intent = _targets(action_parser(actions, "intent", help="label the intent (wins over assisted triage and trains "
                                                            "'deskterm assist train'): where_is_my_order, return ..."))
    intent.add_argument("intent")
    no_response = _targets(action_parser(actions, "no-response",
                                         help="no response needed: stops the clock with a reason ('--clear' undoes)"))
    no_response.add_argument("reason", nargs="?", default=None)
    no_response.add_argument("--clear", action="store_true", help="a response is needed after all")
    action_parser(actions, "undo", help="undo your last triage action")
    action_parser(actions, "wake", help="wake snoozed tickets whose time has come (the app does this by itself)")

    views = sub.add_parser("views", help="list the inbox views and their keys (built-in and saved in config)")
    views.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)

    report = sub.add_parser("report", help="response and resolution times, SLA hit rates, volume by intent and hour")
    report.add_argument("--days", type=int, default=30, choices=(7, 30, 90), help="period (default 30)")
    report.add_argument("--json", action="store_true")
    report.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)


def _targets(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--ids", help="ticket ids, comma-separated")
    group.add_argument("--query", help="every ticket the search finds (as in the inbox, at most 10,000)")
    return parser


def run_search(args: argparse.Namespace, store: Store, config: Config) -> int:
    from deskterm.domain.query import parse_query
    from deskterm.store.inbox import tickets_by_ids
    from deskterm.store.query import run_query

    now = int(time.time())
    agent = current_agent(config)
    result = run_query(store.conn, parse_query(" ".join(args.query), now=now, agent=agent), now=now, agent=agent,
                       limit=args.limit)
    for row in tickets_by_ids(store.conn, result.ticket_ids):
        if args.json:
            print(json.dumps({"id": row.id, "channel": row.channel, "customer": clean_line(row.customer_name),
                              "subject": clean_line(row.subject), "order": clean_line(row.order_ref),
                              "status": row.status, "due": row.sla_due_at, "assignee": row.assignee},
                             ensure_ascii=False))
        else:
            print(f"{row.id}\t{row.channel}\t{clean_line(row.customer_name)}\t{clean_line(row.subject)}\t"
                  f"{clean_line(row.order_ref)}")
    if result.more:
        print(f"deskterm: more than {args.limit} tickets match; --limit N shows more", file=sys.stderr)
    return 0


def _ids(args: argparse.Namespace, store: Store, agent: str, now: int) -> list[int]:
    from deskterm.domain.query import parse_query
    from deskterm.domain.triage import TriageError
    from deskterm.store.query import run_query
    from deskterm.store.triage import MAX_TICKETS

    if args.ids:
        try:
            return [int(part) for part in args.ids.split(",") if part.strip()]
        except ValueError:
            raise TriageError("--ids: ticket numbers separated by commas, e.g. 12,13") from None
    result = run_query(store.conn, parse_query(args.query, now=now, agent=agent), now=now, agent=agent,
                       limit=MAX_TICKETS)
    if result.more:
        raise TriageError(f"the query finds more than {MAX_TICKETS} tickets; narrow it down")
    return result.ticket_ids


def run_triage(args: argparse.Namespace, store: Store, config: Config) -> int:
    from deskterm.domain.triage import parse_priority, snooze_until
    from deskterm.store import triage

    agent = current_agent(config)
    now = int(time.time())
    command = args.triage_command
    with store.transaction() as conn:
        if command == "undo":
            result = triage.undo_last(conn, agent=agent, now=now)
            print(f"{result.label} ({result.changed} tickets)" if result else "nothing to undo")
            return 0
        if command == "wake":
            print(f"{len(triage.wake_snoozed(conn, now))} tickets woke up")
            return 0
        ids = _ids(args, store, agent, now)
        if command in ("resolve", "reopen", "pending"):
            status = {"resolve": "resolved", "reopen": "open", "pending": "pending"}[command]
            result = triage.set_status(conn, ids, status, agent=agent, now=now)
        elif command == "snooze":
            from deskterm.domain.format import local_time

            until = snooze_until(args.until, now)
            result = triage.set_status(conn, ids, "snoozed", agent=agent, now=now, snoozed_until=until,
                                       label=f"Zurückgestellt bis {local_time(until)}")
        elif command == "assign":
            result = triage.assign(conn, ids, None if args.agent.lower() == "none" else args.agent, agent=agent,
                                   now=now)
        elif command == "queue":
            result = triage.set_queue(conn, ids, None if args.queue.lower() == "none" else args.queue, agent=agent,
                                      now=now)
        elif command == "tag":
            result = triage.tag(conn, ids, [t for t in args.tags if not t.startswith("-")],
                                [t[1:] for t in args.tags if t.startswith("-") and len(t) > 1], agent=agent, now=now)
        elif command == "priority":
            result = triage.set_priority(conn, ids, parse_priority(args.level), agent=agent, now=now)
        elif command == "intent":
            result = triage.label_intent(conn, ids, args.intent, agent=agent, now=now)
        else:
            result = triage.no_response_needed(conn, ids, None if args.clear else (args.reason or "ohne Angabe"),
                                               agent=agent, now=now)
    print(f"{clean_line(result.label)}: {result.changed} tickets ('deskterm triage undo' takes it back)")
    return 0


def run_views(config: Config) -> int:
    from deskterm.domain.views import all_views

    for view in all_views(config.views):
        print(f"{view.key or '-'}\t{clean_line(view.name)}\t{clean_line(view.query or view.description)}")
    return 0


def run_report(args: argparse.Namespace, store: Store) -> int:
    from deskterm.store.reports import build_report, report_lines

    report = build_report(store.conn, now=int(time.time()), days=args.days)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report_lines(report)))
    return 0
