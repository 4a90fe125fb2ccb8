"""`deskterm reply`, `deskterm note`, `deskterm templates`: what the composer does, for scripts.

A reply from the command line passes the same checks as one from the composer (template
gaps, the channel's rules) and goes through the same outbox; it is due at once, and
`deskterm sync` or `deskterm outbox send` delivers it.
"""

from __future__ import annotations

import argparse
import time

from deskterm.cli_args import action_parser
from deskterm.config import Config, current_agent
from deskterm.domain.sanitize import clean_line, clean_text
from deskterm.store.db import Store


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    reply = sub.add_parser("reply", help="queue a reply on a ticket's channel (checked like the composer)")
    reply.add_argument("ticket_id", type=int)
    source = reply.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="the reply text")
    source.add_argument("--file", type=argparse.FileType("r", encoding="utf-8"),
                        help="read the reply text from a file ('-': stdin)")
    source.add_argument("--template", help="a template's name (file stem) or shortcut, filled from the ticket")
    reply.add_argument("--language", default=None, help="template variant: de, de_du, en, fr (default: config)")
    reply.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)

    note = sub.add_parser("note", help="add an internal note to a ticket (never sent)")
    note.add_argument("ticket_id", type=int)
    note.add_argument("--text", required=True)
    note.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)

    templates = sub.add_parser("templates", help="reply templates: list them, or show one filled for a ticket")
    actions = templates.add_subparsers(dest="templates_command", metavar="ACTION", required=True)
    action_parser(actions, "list", help="every template with its shortcut, languages and channels")
    show = action_parser(actions, "show", help="a template filled from a ticket, gaps marked ⟦…⟧")
    show.add_argument("template")
    show.add_argument("--ticket", type=int, required=True)
    show.add_argument("--language", default=None)


def _templates(config: Config):  # type: ignore[no-untyped-def]
    from deskterm.domain.templates import load_templates

    return load_templates(*([config.templates_dir] if config.templates_dir else []))


def _filled(config: Config, store: Store, key: str, ticket_id: int, language: str | None,
            agent: str) -> tuple[str, str | None, tuple[str, ...]]:
    """(filled text, status to set, tags to add) of a template for a ticket."""
    from deskterm.domain.templates import TemplateRejected, render
    from deskterm.store.reply_context import template_values

    templates, _ = _templates(config)
    template = next((t for t in templates if key in (t.key, t.shortcut)), None)
    if template is None:
        raise TemplateRejected(f"no template {key!r}; 'deskterm templates list' shows them")
    wanted = language or config.reply.language
    body = template.variants.get(wanted) or template.variants.get("de") or next(iter(template.variants.values()))
    from deskterm.domain.reply_rules import load_rules

    channel = store.conn.execute("SELECT channel FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    channel_name = channel[0] if channel else ""
    rules = load_rules(config.reply_rules_file).get(channel_name)
    values = template_values(store.conn, ticket_id, agent=agent, shop=config.reply.shop_name,
                             return_instructions=config.assist.returns_text(channel_name),
                             links_allowed=not (rules and rules.forbid_urls))
    return render(body, values).text, template.status, template.tags


def run(args: argparse.Namespace, store: Store, config: Config) -> int:
    from deskterm.domain.reply_rules import load_rules
    from deskterm.store.outbox import OutboxError
    from deskterm.store.replies import add_note, queue_reply, reply_problems

    agent = current_agent(config)
    if args.command == "templates":
        if args.templates_command == "show":
            print(clean_text(_filled(config, store, args.template, args.ticket, args.language, agent)[0]))
            return 0
        templates, problems = _templates(config)
        for template in templates:
            channels = ",".join(template.channels) or "alle Kanäle"
            print(f"{template.shortcut or '-'}\t{template.key}\t{clean_line(template.name)}\t"
                  f"{'/'.join(template.variants)}\t{channels}")
        for problem in problems:
            print(f"✗ {clean_line(problem)}")
        return 1 if problems else 0
    if args.command == "note":
        note_id = add_note(store, args.ticket_id, args.text, author=agent, now=int(time.time()))
        print(f"note {note_id} added to ticket {args.ticket_id}")
        return 0
    status: str | None = None
    tags: tuple[str, ...] = ()
    if args.template:
        text, status, tags = _filled(config, store, args.template, args.ticket_id, args.language, agent)
    else:
        text = args.text if args.text is not None else args.file.read()
    problems = reply_problems(store.conn, args.ticket_id, text, rules=load_rules(config.reply_rules_file),
                              now=time.time())
    if problems:
        raise OutboxError("not sent: " + "; ".join(problems))
    queued = queue_reply(store, args.ticket_id, text, now=int(time.time()), set_status=status, tags=tags,
                         agent=agent)
    to = f" to {', '.join(queued.to_addrs)}" if queued.to_addrs else ""
    print(f"queued reply {queued.id}{to}; 'deskterm outbox send' (or sync) delivers it")
    return 0
