"""Channel rules a reply must meet before it may leave (data: data/reply_rules.toml).

`check_reply` returns every broken rule with a reason the agent can act on ("Amazon: keine
Links erlaubt (https://…)"). Rules are data so they can change without a code change; a
reply_rules.toml in the config folder replaces channels of the built-in file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUILT_IN = Path(__file__).parent / "data" / "reply_rules.toml"
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:de|com|net|org|eu|shop)/\S*")
_EMAIL = re.compile(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b")
_LABELS = {"amazon": "Amazon", "ebay": "eBay", "kaufland": "Kaufland", "otto": "OTTO", "zalando": "Zalando",
           "messenger": "Messenger", "instagram": "Instagram", "email": "E-Mail"}


class RulesError(Exception):
    """A rules file that cannot be used; one line."""


@dataclass(frozen=True, slots=True)
class ChannelRules:
    max_chars: int | None = None
    forbid_urls: bool = False
    forbid_emails: bool = False
    forbid_patterns: tuple[re.Pattern[str], ...] = ()
    forbid_patterns_reason: str = "Formulierung nicht erlaubt"
    max_attachment_bytes: int | None = None
    reply_window_hours: int | None = None
    plain_text: bool = False
    human_agent_days: int | None = None  # Meta: with the HUMAN_AGENT tag (if the account has it) this long


def _rules(data: dict[str, Any], source: str) -> dict[str, ChannelRules]:
    rules: dict[str, ChannelRules] = {}
    for channel, raw in data.items():
        if not isinstance(raw, dict):
            raise RulesError(f"{source}: [{channel}] is not a table")
        try:
            patterns = tuple(re.compile(p) for p in raw.get("forbid_patterns", ()))
        except re.error as exc:
            raise RulesError(f"{source}: [{channel}] forbid_patterns: {exc}") from None
        rules[channel] = ChannelRules(raw.get("max_chars"), bool(raw.get("forbid_urls", False)),
                                      bool(raw.get("forbid_emails", False)), patterns,
                                      str(raw.get("forbid_patterns_reason", "Formulierung nicht erlaubt")),
                                      raw.get("max_attachment_bytes"), raw.get("reply_window_hours"),
                                      bool(raw.get("plain_text", False)), raw.get("human_agent_days"))
    return rules


def load_rules(override: Path | None = None) -> dict[str, ChannelRules]:
    rules = _rules(tomllib.loads(BUILT_IN.read_text(encoding="utf-8")), str(BUILT_IN))
    if override is not None and override.is_file():
        try:
            data = tomllib.loads(override.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(f"{override}: not valid TOML ({exc})") from None
        rules.update(_rules(data, str(override)))
    return rules


def check_reply(rules: dict[str, ChannelRules], channel: str, text: str, *, attachment_bytes: int = 0,
                hours_since_customer: float | None = None, human_agent: bool = False) -> list[str]:
    """Every rule the reply breaks, as one line each (empty: it may be sent)."""
    rule = rules.get(channel)
    if rule is None:
        return []
    label = _LABELS.get(channel, channel)
    problems: list[str] = []
    if not text.strip():
        problems.append("Die Antwort ist leer")
    if rule.max_chars is not None and len(text) > rule.max_chars:
        problems.append(f"{label}: höchstens {rule.max_chars} Zeichen, die Antwort hat {len(text)}")
    if rule.forbid_urls and (found := _URL.search(text)):
        problems.append(f"{label}: keine Links erlaubt ({found.group(0)[:60]})")
    if rule.forbid_emails and (found := _EMAIL.search(text)):
        problems.append(f"{label}: keine E-Mail-Adressen erlaubt ({found.group(0)[:60]})")
    for pattern in rule.forbid_patterns:
        if found := pattern.search(text):
            problems.append(f"{label}: {rule.forbid_patterns_reason} („{found.group(0)[:40]}“)")
            break
    if rule.max_attachment_bytes is not None and attachment_bytes > rule.max_attachment_bytes:
        problems.append(f"{label}: Anhänge höchstens {rule.max_attachment_bytes // 1_048_576} MB")
    if rule.reply_window_hours is not None and hours_since_customer is not None \
            and hours_since_customer > rule.reply_window_hours:
        tagged = rule.human_agent_days
        if tagged is not None and human_agent and hours_since_customer <= tagged * 24:
            return problems  # a person answers within 7 days: sent with Meta's HUMAN_AGENT tag
        extra = ""
        if tagged is not None and hours_since_customer <= tagged * 24:
            extra = f"; mit dem Human-Agent-Tag bis {tagged} Tage, für dieses Konto nicht freigeschaltet"
        problems.append(f"{label}: Antwortfenster von {rule.reply_window_hours} h seit der letzten Kundennachricht "
                        f"ist abgelaufen{extra}")
    return problems
