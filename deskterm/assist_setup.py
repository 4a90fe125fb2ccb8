"""Builds the assist pass's context from the config and profile, and runs the pass after a
sync (the TUI's sync worker and `deskterm sync` call `assist_after_sync`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from deskterm.config import Config, current_agent
from deskterm.domain.reply_rules import load_rules
from deskterm.domain.templates import load_templates
from deskterm.store.assist import AssistContext, AssistResult, active_model, run_assist
from deskterm.store.db import Store

log = logging.getLogger(__name__)


def assist_context(config: Config, store_path: Path | None) -> AssistContext:
    """Settings, the active intent model, templates and reply rules for the assist pass."""
    folders = [config.templates_dir] if config.templates_dir else []
    templates, problems = load_templates(*folders)
    for problem in problems:
        log.warning("template skipped: %s", problem)
    try:
        rules = load_rules(config.reply_rules_file)
    except ValueError as exc:
        log.warning("reply rules: %s", exc)
        rules = load_rules(None)
    return AssistContext(config.assist, active_model(store_path), {t.key: t for t in templates},
                         current_agent(config), config.reply.shop_name, rules, config.reply.language,
                         config.reply.signature_for)


def assist_after_sync(store_path: Path, context: AssistContext, *, clock: Callable[[], float] = time.time,
                      budget_seconds: float = 20.0) -> AssistResult:
    """Drain the assist queue in batches (at most `budget_seconds`; the rest waits for the
    next sync). Runs in a worker thread with its own connection."""
    total = AssistResult()
    started = time.monotonic()
    with Store.open(store_path, create=False) as store:
        while True:
            result = run_assist(store, context, now=int(clock()))
            total.classified += result.classified
            total.routed += result.routed
            total.drafted += result.drafted
            total.auto_sent += result.auto_sent
            total.errors.extend(result.errors)
            total.remaining = result.remaining
            handled = result.classified + len(result.errors)  # a failed ticket leaves the queue too
            if not result.remaining or handled == 0 or time.monotonic() - started > budget_seconds:
                break
    for error in total.errors:
        log.warning("assist: %s", error)
    return total
