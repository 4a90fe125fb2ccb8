"""The seller's assist settings: routing rules, draft/auto-send policy per intent and
channel, return instructions per channel, and the optional LLM provider.

Read from the config's `[assist]` section (config.py validates it through `parse_assist`,
so a mistake is reported as one line naming the key):

    [assist]
    classify = true                    # classify new buyer messages (intent, language, urgency)
    no_response_for = ["auto_reply"]   # intents whose tickets need no answer (stops the clock)
    return_address = "Lindenhof, Retouren, Industriestr. 4, 34117 Kassel"

    [assist.policy]                    # intent or "channel.intent": "draft", "auto_send" or "off"
    where_is_my_order = "draft"
    "email.where_is_my_order" = "auto_send"

    [[assist.route]]                   # every matching rule applies, in order
    intent = "return"                  # conditions: intent, channel, account, language, urgency,
    channel = "kaufland"               #   min_customer_value (euros, all the customer's orders)
    queue = "retouren"                 # actions: queue, assignee, priority, tags; stop = true ends
    assignee = "Jana"

Pure data and decisions; the store's assist pass applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from deskterm.domain.triage import INTENTS, PRIORITY_ALIASES, TriageError, parse_intent, parse_tag

POLICIES = ("draft", "auto_send", "off")
# Intents the assist drafts an answer for from order data, and the template it uses.
DRAFT_TEMPLATES: dict[str, str] = {
    "where_is_my_order": "wo-ist-meine-bestellung",
    "return": "ruecksendung",
    "invoice": "rechnung",
}
DEFAULT_POLICY = "draft"
# Intents whose draft is complete without a person: the invoice draft needs the PDF attached.
AUTO_SEND_INTENTS = frozenset({"where_is_my_order", "return"})
# Channels on which an automatic reply may go out at all [I]: their rules do not forbid
# answering a buyer without a human (Zalando and OTTO have no buyer messaging here).
AUTO_SEND_CHANNELS = frozenset({"email", "shop", "amazon", "ebay", "kaufland", "messenger", "instagram"})
URGENCY_NAMES = {"normal": 0, "erhoeht": 1, "erhöht": 1, "raised": 1, "dringend": 2, "urgent": 2}

# How a buyer returns goods bought on each channel [I: wording of the marketplaces' own flows].
RETURN_INSTRUCTIONS: dict[str, str] = {
    "amazon": "Bitte melden Sie die Rücksendung in Ihrem Amazon-Konto an (Meine Bestellungen → „Artikel "
              "zurücksenden oder ersetzen“). Dort erhalten Sie auch das Rücksendeetikett.",
    "ebay": "Bitte starten Sie die Rücksendung in Ihrem eBay-Konto unter „Meine Käufe“ → „Artikel zurückgeben“. "
            "Das Rücksendeetikett erhalten Sie dort.",
    "kaufland": "Bitte melden Sie die Rücksendung in Ihrem Kaufland-Kundenkonto unter „Meine Bestellungen“ an. "
                "Dort erhalten Sie das Rücksendeetikett.",
    "otto": "Bitte melden Sie die Rücksendung in Ihrem OTTO-Kundenkonto unter „Meine Bestellungen“ an; "
            "dort erhalten Sie das Rücksendeetikett.",
    "zalando": "Bitte melden Sie die Rücksendung im Zalando-Kundenkonto unter „Bestellungen“ → „Rücksendung "
               "anmelden“ an.",
}


class AssistConfigError(ValueError):
    """A setting of [assist] that cannot be used: `key` names it, str() says why."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Route:
    """One routing rule: conditions (empty: any) and what it sets."""

    name: str
    intents: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    min_urgency: int = 0
    min_customer_value_cents: int = 0
    queue: str | None = None
    assignee: str | None = None
    priority: int | None = None
    tags: tuple[str, ...] = ()
    stop: bool = False

    def matches(self, *, intent: str, channel: str, account: str, language: str, urgency: int,
                customer_value_cents: int) -> bool:
        return ((not self.intents or intent in self.intents) and (not self.channels or channel in self.channels)
                and (not self.accounts or account in self.accounts)
                and (not self.languages or language in self.languages) and urgency >= self.min_urgency
                and customer_value_cents >= self.min_customer_value_cents)


@dataclass(frozen=True, slots=True)
class RouteDecision:
    queue: str | None = None
    assignee: str | None = None
    priority: int | None = None
    tags: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # names of the rules that applied

    @property
    def empty(self) -> bool:
        return not self.rules


@dataclass(frozen=True, slots=True)
class LlmSettings:
    enabled: bool = False
    base_url: str = ""  # an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 (Ollama)
    model: str = ""
    api_key: str = ""  # "keyring:<service>/<user>" or empty (local servers)
    timeout_seconds: int = 60
    tone: str = "Sie"  # "Sie" (formal, default) or "du"


@dataclass(frozen=True, slots=True)
class AssistSettings:
    classify: bool = True
    no_response_for: tuple[str, ...] = ("auto_reply",)
    policies: dict[str, str] = field(default_factory=dict)  # "intent" or "channel.intent" -> policy
    routes: tuple[Route, ...] = ()
    return_address: str = ""
    return_instructions: dict[str, str] = field(default_factory=dict)  # channel -> text (overrides)
    auto_send_channels: frozenset[str] = AUTO_SEND_CHANNELS
    llm: LlmSettings = field(default_factory=LlmSettings)

    def policy_for(self, intent: str, channel: str) -> str:
        """draft, auto_send or off for this intent on this channel (intents without a draft: off)."""
        if intent not in DRAFT_TEMPLATES:
            return "off"
        return self.policies.get(f"{channel}.{intent}", self.policies.get(intent, DEFAULT_POLICY))

    def returns_text(self, channel: str) -> str:
        """The channel's return instructions ('' when the shop's own address is needed but not set)."""
        if channel in self.return_instructions:
            return self.return_instructions[channel]
        if channel in RETURN_INSTRUCTIONS:
            return RETURN_INSTRUCTIONS[channel]
        if self.return_address:
            return (f"Bitte senden Sie die Ware an: {self.return_address}. Legen Sie bitte einen Zettel mit Ihrer "
                    "Bestellnummer bei.")
        return ""

    def route(self, *, intent: str, channel: str, account: str, language: str, urgency: int,
              customer_value_cents: int) -> RouteDecision:
        """Apply every matching rule in order (a later rule overrides, tags add up; `stop` ends).
        A message the classifier finds urgent (legal words, anger plus a deadline) is at
        least of high priority even without a rule."""
        queue = assignee = None
        priority: int | None = 1 if urgency >= 2 else None
        tags: list[str] = []
        applied: list[str] = []
        for rule in self.routes:
            if not rule.matches(intent=intent, channel=channel, account=account, language=language, urgency=urgency,
                                customer_value_cents=customer_value_cents):
                continue
            applied.append(rule.name)
            queue = rule.queue if rule.queue is not None else queue
            assignee = rule.assignee if rule.assignee is not None else assignee
            if rule.priority is not None:
                priority = rule.priority if priority is None else max(priority, rule.priority)
            tags.extend(t for t in rule.tags if t not in tags)
            if rule.stop:
                break
        if priority is not None and not applied:
            applied.append("dringend erkannt")
        return RouteDecision(queue, assignee, priority, tuple(tags), tuple(applied))


def _only_known(prefix: str, data: Mapping[str, object], known: set[str]) -> None:
    for name in data:
        if name not in known:
            raise AssistConfigError(f"{prefix}.{name}", f"unknown setting (known: {', '.join(sorted(known))})")


def _flag(prefix: str, data: Mapping[str, object], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise AssistConfigError(f"{prefix}.{name}", "must be true or false")
    return value


def _strings(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise AssistConfigError(key, "must be a string or a list of strings")


def _route(index: int, data: object) -> Route:
    key = f"assist.route[{index + 1}]"
    if not isinstance(data, dict):
        raise AssistConfigError(key, "must be a table: [[assist.route]]")
    _only_known(key, data, {"name", "intent", "channel", "account", "language", "urgency", "min_customer_value",
                            "queue", "assignee", "priority", "tags", "stop"})
    try:
        intents = tuple(parse_intent(i) for i in _strings(f"{key}.intent", data.get("intent", [])))
        tags = tuple(parse_tag(t) for t in _strings(f"{key}.tags", data.get("tags", [])))
    except TriageError as exc:
        raise AssistConfigError(key, str(exc)) from None
    priority = data.get("priority")
    if priority is not None and (not isinstance(priority, str) or priority.lower() not in PRIORITY_ALIASES):
        raise AssistConfigError(f"{key}.priority", "must be urgent, high, normal or low")
    urgency = str(data.get("urgency", "normal")).lower()
    if urgency not in URGENCY_NAMES:
        raise AssistConfigError(f"{key}.urgency", "must be normal, raised or urgent")
    value = data.get("min_customer_value", 0)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise AssistConfigError(f"{key}.min_customer_value", "must be an amount in euros, e.g. 250")
    for name in ("queue", "assignee", "name"):
        if name in data and not isinstance(data[name], str):
            raise AssistConfigError(f"{key}.{name}", "must be a string")
    stop = _flag(key, data, "stop", False)
    actions = ("queue", "assignee", "priority", "tags")
    if not any(a in data for a in actions):
        raise AssistConfigError(key, "sets nothing: give queue, assignee, priority or tags")
    return Route(str(data.get("name", f"Regel {index + 1}")), intents,
                 _strings(f"{key}.channel", data.get("channel", [])), _strings(f"{key}.account", data.get("account", [])),
                 _strings(f"{key}.language", data.get("language", [])), URGENCY_NAMES[urgency],
                 int(round(float(value) * 100)), data.get("queue"), data.get("assignee"),
                 PRIORITY_ALIASES[priority.lower()] if isinstance(priority, str) else None, tags, stop)


def parse_assist(data: Mapping[str, object]) -> AssistSettings:
    """Validate the [assist] table; raises AssistConfigError naming the key."""
    _only_known("assist", data, {"classify", "no_response_for", "policy", "route", "return_address",
                                 "return_instructions", "auto_send_channels", "llm"})
    classify = _flag("assist", data, "classify", True)
    try:
        no_response = tuple(parse_intent(i) for i in _strings("assist.no_response_for",
                                                                data.get("no_response_for", ["auto_reply"])))
    except TriageError as exc:
        raise AssistConfigError("assist.no_response_for", str(exc)) from None
    policies: dict[str, str] = {}
    raw_policies = data.get("policy", {})
    if not isinstance(raw_policies, dict):
        raise AssistConfigError("assist.policy", "must be a table: [assist.policy]")
    for name, value in raw_policies.items():
        intent = name.rsplit(".", 1)[-1]
        if intent not in INTENTS:
            raise AssistConfigError(f"assist.policy.{name}", f"unknown intent (known: {', '.join(INTENTS)})")
        if value not in POLICIES:
            raise AssistConfigError(f"assist.policy.{name}", "must be \"draft\", \"auto_send\" or \"off\"")
        if intent not in DRAFT_TEMPLATES and value != "off":
            raise AssistConfigError(f"assist.policy.{name}",
                                    f"no drafts for this intent (drafts exist for: {', '.join(DRAFT_TEMPLATES)})")
        if value == "auto_send" and intent not in AUTO_SEND_INTENTS:
            raise AssistConfigError(f"assist.policy.{name}", "cannot be sent automatically (a person attaches the "
                                                             "invoice); use \"draft\"")
        policies[name] = str(value)
    raw_routes = data.get("route", [])
    if not isinstance(raw_routes, list):
        raise AssistConfigError("assist.route", "must be an array of tables: [[assist.route]]")
    routes = tuple(_route(i, r) for i, r in enumerate(raw_routes))
    address = data.get("return_address", "")
    if not isinstance(address, str):
        raise AssistConfigError("assist.return_address", "must be a string")
    instructions = data.get("return_instructions", {})
    if not isinstance(instructions, dict) or not all(isinstance(v, str) for v in instructions.values()):
        raise AssistConfigError("assist.return_instructions", "must be a table of texts per channel")
    channels = data.get("auto_send_channels")
    auto_channels = frozenset(_strings("assist.auto_send_channels", channels)) if channels is not None \
        else AUTO_SEND_CHANNELS
    return AssistSettings(classify, no_response, policies, routes, address, dict(instructions), auto_channels,
                          _llm(data.get("llm", {})))


def _llm(data: object) -> LlmSettings:
    if not isinstance(data, dict):
        raise AssistConfigError("assist.llm", "must be a table: [assist.llm]")
    _only_known("assist.llm", data, {"enabled", "base_url", "model", "api_key", "timeout_seconds", "tone"})
    enabled = _flag("assist.llm", data, "enabled", False)
    base_url, model = data.get("base_url", ""), data.get("model", "")
    if not isinstance(base_url, str) or not isinstance(model, str):
        raise AssistConfigError("assist.llm", "base_url and model must be strings")
    if enabled and not (base_url.startswith("http://") or base_url.startswith("https://")):
        raise AssistConfigError("assist.llm.base_url", "must be an http(s) URL, e.g. http://127.0.0.1:11434/v1")
    if enabled and not model:
        raise AssistConfigError("assist.llm.model", "name the model, e.g. \"llama3.1\"")
    timeout = data.get("timeout_seconds", 60)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 600:
        raise AssistConfigError("assist.llm.timeout_seconds", "must be between 1 and 600")
    tone = data.get("tone", "Sie")
    if tone not in ("Sie", "du"):
        raise AssistConfigError("assist.llm.tone", "must be \"Sie\" or \"du\"")
    api_key = data.get("api_key", "")
    if not isinstance(api_key, str):
        raise AssistConfigError("assist.llm.api_key", "must be a keyring reference")
    return LlmSettings(enabled, base_url.rstrip("/"), model, api_key, timeout, tone)
