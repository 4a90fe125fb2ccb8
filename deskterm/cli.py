"""The `deskterm` command and the composition root that builds the app.

Textual is imported only when a screen is about to open, so `sync`, `doctor` and
`search` start fast and run on machines without a terminal.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from deskterm import __version__
from deskterm.config import STARTER_CONFIG, Config, ConfigError, current_agent, load_config
from deskterm.paths import InvalidProfileName, Locations, locations
from deskterm.store.db import Store, StoreError

if TYPE_CHECKING:
    from deskterm.app import DesktermApp
    from deskterm.sources.engine import SyncEvent
    from deskterm.store.assist import AssistContext

log = logging.getLogger("deskterm")

DEMO_PROFILE = "demo"

SETUP_TEXT = """\
Echte Konten (IMAP/SMTP, Amazon, eBay, Kaufland, OTTO, Zalando, Meta) kommen mit den
Kanal-Modulen. Die Konfiguration liegt in:
  {config}
Zugangsdaten gehören nie in diese Datei, sondern in den Schlüsselbund des Systems:
  python -m keyring set deskterm <konto>
Bis dahin zeigt 'd' den Demo-Shop mit allen Kanälen."""


class CliError(Exception):
    """A one-line error for the user; exit status 2."""


# -- composition root ------------------------------------------------------------------


def build_app(
    *,
    store: Store | None,
    profile: str | None,
    config: Config,
    where: Locations,
    sync_on_start: bool = False,
    clock: object = time.time,
    poll_seconds: float = 1.0,
) -> DesktermApp:
    """Create the App with everything it needs injected (tests use this too)."""
    from deskterm.app import DesktermApp

    return DesktermApp(
        store=store,
        profile=profile,
        config=config,
        clock=clock,  # type: ignore[arg-type]
        sync_on_start=sync_on_start,
        demo_factory=lambda: create_demo_profile(where),
        setup_text=SETUP_TEXT.format(config=where.config_file),
        poll_seconds=poll_seconds,
        export_dir=where.data_dir / "exports",
    )


def create_demo_profile(where: Locations, *, tickets: int | None = None, anchor: datetime | None = None) -> Path:
    """Recreate the throw-away demo profile (accounts only; the sync fills it)."""
    from deskterm.sources.registry import DEMO_TICKETS, register_demo_accounts

    path = where.store_path(DEMO_PROFILE)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    with Store.open(path) as store:
        register_demo_accounts(store, anchor=anchor or datetime.now(timezone.utc), tickets=tickets or DEMO_TICKETS,
                               marketplaces=True)
    return path


def existing_profiles(where: Locations) -> list[str]:
    folder = where.data_dir / "profiles"
    return sorted(p.stem for p in folder.glob("*.sqlite3")) if folder.exists() else []


def resolve_profile(where: Locations, config: Config, requested: str | None) -> str | None:
    """The profile to use: --profile, else the config's default, else the only one there is."""
    if requested:
        if not where.store_path(requested).exists():
            raise CliError(f"no profile {requested!r} in {where.data_dir / 'profiles'}; "
                           "run 'deskterm demo' or 'deskterm' to set one up")
        return requested
    if config.default_profile:
        return config.default_profile
    profiles = existing_profiles(where)
    return profiles[0] if len(profiles) == 1 else None


def open_store(where: Locations, profile: str) -> Store:
    return Store.open(where.store_path(profile), create=False)


# -- commands --------------------------------------------------------------------------


def cmd_open(args: argparse.Namespace, where: Locations, config: Config) -> int:
    if args.store is not None:
        store: Store | None = Store.open(args.store, create=False)
        profile: str | None = args.store.stem
    else:
        profile = resolve_profile(where, config, args.profile)
        store = open_store(where, profile) if profile else None
    build_app(store=store, profile=profile, config=config, where=where).run()
    return 0


def cmd_demo(args: argparse.Namespace, where: Locations, config: Config) -> int:
    from deskterm.sandbox.demo_config import demo_config

    config = demo_config(config)
    path = create_demo_profile(where, tickets=args.tickets)
    if args.no_open:
        return _sync(where, DEMO_PROFILE, config, watch=False, interval=0)
    store = Store.open(path, create=False)
    build_app(store=store, profile=DEMO_PROFILE, config=config, where=where, sync_on_start=True).run()
    return 0


def cmd_sync(args: argparse.Namespace, where: Locations, config: Config) -> int:
    profile = resolve_profile(where, config, args.profile)
    if profile is None:
        raise CliError("no profile to sync; run 'deskterm demo' or pass --profile NAME")
    return _sync(where, profile, config, watch=args.watch, interval=args.interval or config.sync.interval_seconds)


_ASSIST_CONTEXTS: dict[Path, AssistContext] = {}  # built once per process: templates, rules, model


def _assist(where: Locations, profile: str, config: Config) -> None:
    """After a sync: classify, route and draft what arrived (assisted triage). The context
    (templates, model) is built once per process."""
    from deskterm.assist_setup import assist_after_sync, assist_context

    path = where.store_path(profile)
    context = _ASSIST_CONTEXTS.get(path)
    if context is None:
        context = _ASSIST_CONTEXTS[path] = assist_context(config, path)
    result = assist_after_sync(path, context, budget_seconds=120)
    if result.classified:
        print(f"assist: {result.classified} classified, {result.drafted} drafts, {result.auto_sent} automatic replies"
              + (f", {result.remaining} still queued" if result.remaining else ""), file=sys.stderr)
    for error in result.errors[:3]:
        print(f"assist: {error}", file=sys.stderr)


def _sync(where: Locations, profile: str, config: Config, *, watch: bool, interval: float) -> int:
    import threading

    from deskterm.sources.engine import SyncEngine
    from deskterm.sources.registry import sources_for_store

    with open_store(where, profile) as store:
        sources = sources_for_store(store)
    if not sources:
        raise CliError(f"profile {profile!r} has no accounts to sync")
    printer = _ProgressPrinter(sys.stderr.isatty())
    engine = SyncEngine(where.store_path(profile), sources, listener=printer)
    if not watch:
        try:
            runs = engine.run_once()
        finally:
            for source in sources:
                source.close()
        failed = [r for r in runs if r.error]
        total = sum(r.messages for r in runs)
        print(f"synced {len(runs)} sources, {total} new or changed messages, {len(failed)} failed", file=sys.stderr)
        _assist(where, profile, config)
        _deliver_outbox(where, profile)
        return 1 if failed else 0
    stop = threading.Event()
    print(f"watching {len(sources)} sources every {interval:g} s; Ctrl-C stops", file=sys.stderr)
    try:
        def after_each() -> None:
            _assist(where, profile, config)
            _deliver_outbox(where, profile)

        engine.watch(interval, stop, after_each=after_each)
    except KeyboardInterrupt:
        stop.set()
    finally:
        for source in sources:
            source.close()
    return 0


def _deliver_outbox(where: Locations, profile: str) -> None:
    """Send due replies after a sync."""
    from deskterm.sources.outbox_sender import deliver_if_due

    report = deliver_if_due(where.store_path(profile))
    if report is not None and (report.sent or report.failed or report.retrying):
        print(f"outbox: sent {report.sent}, retrying {report.retrying}, failed {len(report.failed)}", file=sys.stderr)


class _ProgressPrinter:
    """Prints engine events: one updating line per source on a terminal, plain lines otherwise."""

    def __init__(self, live: bool) -> None:
        self.live = live

    def __call__(self, event: SyncEvent) -> None:
        from deskterm.domain.sanitize import clean_line

        backlog = f", {event.backlog} to go" if event.backlog else ""
        if event.kind == "progress":
            if self.live:
                print(f"\r⟳ {event.account_key}: {event.stored} messages{backlog}\033[K", end="", file=sys.stderr)
            return
        if event.kind == "started":
            return
        prefix = "\r" if self.live else ""
        if event.kind == "failed":
            print(f"{prefix}✗ {event.account_key}: {clean_line(event.error)}", file=sys.stderr)
        else:
            print(f"{prefix}✓ {event.account_key}: {event.stored} messages" + ("\033[K" if self.live else ""),
                  file=sys.stderr)


def profile_store(where: Locations, config: Config, args: argparse.Namespace) -> Store:
    """The store a command works on (--store FILE, else the profile), or a one-line error."""
    if getattr(args, "store", None) is not None:
        return Store.open(args.store, create=False)
    profile = resolve_profile(where, config, args.profile)
    if profile is None:
        raise CliError("no profile; run 'deskterm demo' or pass --profile NAME")
    return open_store(where, profile)


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors whose message is already one line for the user (imported only when needed)."""
    from deskterm.store.customers import MergeError
    from deskterm.store.gdpr import ErasureError
    from deskterm.store.gdpr_register import RegisterError
    from deskterm.domain.query import QueryError
    from deskterm.domain.triage import TriageError

    from deskterm.accounts import AccountError
    from deskterm.secrets import SecretError
    from deskterm.sources.base import SourceError
    from deskterm.sources.mail.settings import MailSettingsError
    from deskterm.store.outbox import OutboxError

    from deskterm.domain.reply_rules import RulesError
    from deskterm.domain.templates import TemplateRejected
    from deskterm.cli_assist import AssistCliError
    from deskterm.domain.assist_eval import LabelledSetError
    from deskterm.domain.intent_model import ModelError
    from deskterm.store.assist_drafts import DraftError

    return (MergeError, ErasureError, RegisterError, QueryError, TriageError, AccountError, SecretError, SourceError,
            MailSettingsError, OutboxError, TemplateRejected, RulesError, AssistCliError, LabelledSetError, ModelError,
            DraftError)


def cmd_triage(args: argparse.Namespace, where: Locations, config: Config) -> int:
    """search / triage / views / report (cli_triage)."""
    from deskterm import cli_triage

    if args.command == "views":
        return cli_triage.run_views(config)
    with profile_store(where, config, args) as store:
        if args.command == "search":
            return cli_triage.run_search(args, store, config)
        if args.command == "report":
            return cli_triage.run_report(args, store)
        return cli_triage.run_triage(args, store, config)


def cmd_amazon(args: argparse.Namespace, where: Locations, config: Config) -> int:
    from deskterm import cli_amazon

    with profile_store(where, config, args) as store:
        return cli_amazon.run(args, store, agent=current_agent(config))


def cmd_assist(args: argparse.Namespace, where: Locations, config: Config) -> int:
    """deskterm assist eval|classify|train|run|draft|suggest (cli_assist)."""
    from deskterm import cli_assist

    explicit = getattr(args, "profile", None)
    profile = resolve_profile(where, config, explicit)
    store_path = where.store_path(profile) if profile else None
    if store_path is not None and not store_path.exists():
        if explicit:
            raise CliError(f"no profile {profile!r}")
        store_path = None
    return cli_assist.run(args, config, store_path)


def cmd_webhook(args: argparse.Namespace, where: Locations, config: Config) -> int:
    """Receive Meta's webhooks for one Messenger/Instagram account; new events sync it."""
    import json as json_module

    from deskterm.sources.meta_webhook import WebhookServer
    from deskterm.sources.registry import credential, source_for_account

    with profile_store(where, config, args) as store:
        row = store.conn.execute("SELECT settings FROM accounts WHERE key = ?", (args.account,)).fetchone()
        if row is None or json_module.loads(row[0]).get("source") != "meta":
            raise CliError(f"no Messenger/Instagram account {args.account!r} in this profile")
        settings = json_module.loads(row[0])
        base_url = str(settings.get("base_url") or "https://graph.facebook.com")
        secret = credential(settings, "app_secret", base_url)
        token = credential(settings, "verify_token", base_url)
        path = store.path

    def sync() -> None:
        from deskterm.sources.engine import SyncEngine

        with Store.open(path, create=False) as opened:
            source = source_for_account(opened, args.account)
        try:
            SyncEngine(path, [source]).run_once()
        finally:
            source.close()

    server = WebhookServer(path, args.account, app_secret=secret, verify_token=token, on_new=sync, host=args.host,
                           port=args.port)
    print(f"receiving Meta webhooks for {args.account} at {server.url} (put an HTTPS proxy in front); Ctrl-C stops",
          file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def cmd_customer(args: argparse.Namespace, where: Locations, config: Config) -> int:
    from deskterm import cli_customers

    with profile_store(where, config, args) as store:
        return cli_customers.run(args, store, actor=current_agent(config))


def cmd_gdpr(args: argparse.Namespace, where: Locations, config: Config) -> int:
    from deskterm import cli_gdpr

    with profile_store(where, config, args) as store:
        if args.command == "audit":
            return cli_gdpr.run_audit(args, store)
        return cli_gdpr.run_gdpr(args, store, policy=config.gdpr.policy(), actor=current_agent(config))


def cmd_mail(args: argparse.Namespace, where: Locations, config: Config) -> int:
    """accounts / reply / outbox / mail: the e-mail channel's commands (cli_mail)."""
    from deskterm import cli_mail

    if args.command == "accounts" and args.accounts_command == "add":
        profile = getattr(args, "profile", None) or config.default_profile or "main"
        path = where.store_path(profile)
        created = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with Store.open(path) as store:  # adding the first account creates the profile
                return cli_mail.run_accounts(args, store)
        except BaseException:
            if created:  # a failed first add leaves no empty profile behind
                for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    leftover.unlink(missing_ok=True)
            raise
    runner = {"accounts": cli_mail.run_accounts, "outbox": cli_mail.run_outbox, "mail": cli_mail.run_mail}[args.command]
    with profile_store(where, config, args) as store:
        return runner(args, store)


def cmd_replies(args: argparse.Namespace, where: Locations, config: Config) -> int:
    """reply / note / templates (cli_replies)."""
    from deskterm import cli_replies

    with profile_store(where, config, args) as store:
        return cli_replies.run(args, store, config)


def cmd_doctor(args: argparse.Namespace, where: Locations, config: Config) -> int:
    from deskterm.doctor import run_checks

    try:
        profile = resolve_profile(where, config, args.profile)
    except CliError as exc:
        print(f"✗ {exc}")
        profile = None
    failed = 0
    for check in run_checks(where, where.store_path(profile) if profile else None):
        print(check.line())
        failed += 0 if check.ok or check.warning else 1
    print(f"{failed} problem(s) found" if failed else "all checks passed")
    return 1 if failed else 0


def cmd_paths(args: argparse.Namespace, where: Locations, config: Config) -> int:
    print(f"config  {where.config_file}")
    print(f"data    {where.data_dir / 'profiles'}")
    print(f"log     {where.log_file}")
    return 0


def cmd_config_init(args: argparse.Namespace, where: Locations, config: Config) -> int:
    if where.config_file.exists():
        raise CliError(f"{where.config_file} exists; not overwriting it")
    where.config_file.parent.mkdir(parents=True, exist_ok=True)
    where.config_file.write_text(STARTER_CONFIG, encoding="utf-8")
    print(f"wrote {where.config_file}")
    return 0


# -- parsing ---------------------------------------------------------------------------


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskterm",
        description="One keyboard-driven inbox for every channel an e-commerce seller answers. "
                    "Without a command, opens the inbox of the profile (or a welcome screen).",
        epilog="Files: 'deskterm paths' shows where config, data and logs live ($DESKTERM_HOME moves them all).",
    )
    parser.add_argument("--version", action="version", version=f"deskterm {__version__}")
    parser.add_argument("--profile", help="profile to open (default: config's default_profile, or the only one)")
    parser.add_argument("--store", type=Path, help="open this store file instead of a profile (e.g. a copy)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="create a fresh throw-away demo shop, sync it and open it")
    demo.add_argument("--tickets", type=int, default=None, help="conversations to generate (default 600)")
    demo.add_argument("--no-open", action="store_true", help="only create and sync the demo profile")

    sync = sub.add_parser("sync", help="pull every account of a profile once (or keep watching)")
    sync.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)
    sync.add_argument("--watch", action="store_true", help="keep syncing every interval until Ctrl-C")
    sync.add_argument("--interval", type=float, default=None, help="seconds between syncs with --watch")

    from deskterm import cli_triage

    cli_triage.add_parsers(sub)
    from deskterm import cli_amazon

    cli_amazon.add_parsers(sub)
    from deskterm import cli_assist

    cli_assist.add_parsers(sub)
    webhook = sub.add_parser("webhook", help="receive Meta's webhooks for a Messenger/Instagram account "
                                            "(optional; polling is the default)")
    webhook.add_argument("--account", required=True, help="the account key (settings hold app_secret and "
                                                          "verify_token keyring references)")
    webhook.add_argument("--host", default="127.0.0.1")
    webhook.add_argument("--port", type=int, default=8787)
    webhook.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)

    from deskterm import cli_customers

    cli_customers.add_parser(sub)
    from deskterm import cli_gdpr

    cli_gdpr.add_parsers(sub)

    from deskterm import cli_mail, cli_replies

    cli_mail.add_parsers(sub)
    cli_replies.add_parsers(sub)

    doctor = sub.add_parser("doctor", help="check store, config, keyring and accounts; say what to fix")
    doctor.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)

    sub.add_parser("paths", help="show where config, data and logs live")
    config = sub.add_parser("config", help="manage the config file")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser("init", help="write a commented starter config")
    return parser


COMMANDS = {
    None: cmd_open,
    "demo": cmd_demo,
    "sync": cmd_sync,
    "search": cmd_triage,
    "triage": cmd_triage,
    "views": cmd_triage,
    "report": cmd_triage,
    "amazon": cmd_amazon,
    "assist": cmd_assist,
    "webhook": cmd_webhook,
    "customer": cmd_customer,
    "gdpr": cmd_gdpr,
    "audit": cmd_gdpr,
    "accounts": cmd_mail,
    "reply": cmd_replies,
    "note": cmd_replies,
    "templates": cmd_replies,
    "outbox": cmd_mail,
    "mail": cmd_mail,
    "doctor": cmd_doctor,
    "paths": cmd_paths,
    "config": cmd_config_init,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    where = locations()
    try:
        from deskterm.logs import setup_logging

        setup_logging(where.log_file)
    except OSError as exc:
        print(f"deskterm: cannot write the log file {where.log_file}: {exc}", file=sys.stderr)
    try:
        config = load_config(where.config_file)
        from deskterm.domain.sla import configure

        configure(config.sla.state, config.sla.channels)  # deadlines stored by sync follow the config
        return COMMANDS[args.command](args, where, config)
    except (CliError, ConfigError, StoreError, InvalidProfileName) as exc:
        print(f"deskterm: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            print(f"deskterm: {exc}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head/less that closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
