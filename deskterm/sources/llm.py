"""An OpenAI-compatible chat completions client (a local Ollama, an EU provider, any
compatible endpoint): `POST {base_url}/chat/completions`.

Only ever called with pseudonymised text (store/assist_drafts.py); the API key, if the
provider needs one, comes from the keyring. Errors are one line naming the provider's
answer; the key never appears in them.
"""

from __future__ import annotations

import sqlite3

import httpx

from deskterm.domain.assist_policy import LlmSettings
from deskterm.domain.llm_messages import ChatMessage
from deskterm.domain.pseudonymize import Pseudonyms
from deskterm.store.assist_drafts import Draft, DraftError, build_prompt


class LlmError(Exception):
    """The provider could not give a draft; one line saying why."""


def complete(settings: LlmSettings, messages: list[ChatMessage], *, transport: httpx.BaseTransport | None = None,
             max_tokens: int = 700) -> str:
    """The model's answer to `messages` (temperature low: drafts, not poetry)."""
    if not settings.base_url or not settings.model:
        raise LlmError("no LLM configured: set [assist.llm] base_url and model")
    headers = {"Content-Type": "application/json"}
    if settings.api_key:
        from deskterm.secrets import SecretError, get_secret

        try:
            headers["Authorization"] = f"Bearer {get_secret(settings.api_key)}"
        except SecretError as exc:
            raise LlmError(f"LLM API key: {exc}") from None
    body = {"model": settings.model, "temperature": 0.2, "max_tokens": max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in messages]}
    try:
        with httpx.Client(timeout=settings.timeout_seconds, transport=transport) as client:
            response = client.post(f"{settings.base_url}/chat/completions", json=body, headers=headers)
    except httpx.TimeoutException:
        raise LlmError(f"the LLM at {settings.base_url} did not answer within {settings.timeout_seconds} s") from None
    except httpx.HTTPError as exc:
        raise LlmError(f"cannot reach the LLM at {settings.base_url} ({type(exc).__name__})") from None
    try:
        data = response.json()
    except ValueError:
        raise LlmError(f"the LLM answered {response.status_code} without JSON") from None
    if response.status_code != 200:
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else ""
        raise LlmError(f"the LLM refused ({response.status_code}): {str(message).splitlines()[0][:200] if message else '-'}")
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LlmError("the LLM's answer has no choices[0].message.content") from None
    if not isinstance(content, str) or not content.strip():
        raise LlmError("the LLM's answer is empty")
    return content.strip()


def llm_draft(conn: sqlite3.Connection, ticket_id: int, settings: LlmSettings, *, agent: str, shop: str = "",
              transport: httpx.BaseTransport | None = None) -> Draft:
    """A draft from the configured LLM (off unless [assist.llm] enabled = true)."""
    if not settings.enabled:
        raise DraftError("the LLM is off: set [assist.llm] enabled = true, base_url and model")
    pseudonyms = Pseudonyms()
    messages = build_prompt(conn, ticket_id, settings, shop=shop, pseudonyms=pseudonyms)
    try:
        answer = complete(settings, messages, transport=transport)
    except LlmError as exc:
        raise DraftError(str(exc)) from None
    text = pseudonyms.restore(answer)
    if agent and agent not in text[-80:]:
        text = f"{text}\n{agent}"
    return Draft(text, [f"Entwurf von {settings.model}: bitte prüfen", f"{len(pseudonyms.originals)} Angaben "
                                                                       "durch Platzhalter ersetzt"])
