"""A fake OpenAI-compatible chat completions endpoint on loopback, for tests and the demo.

`POST /v1/chat/completions` checks the request's shape (model, messages with role and
content, the bearer key when one is set), keeps every request for inspection (tests look
for personal data in them), and answers in the chat.completion shape with a formal German
draft that reuses the placeholders it was given, as a real model is asked to. Errors come
in OpenAI's `{"error": {"message", "type", "code"}}` body. `GET /v1/models` lists the model.
"""

from __future__ import annotations

import re
import time
from typing import Any

from deskterm.sandbox.server import Answer, Request, SandboxServer

_PLACEHOLDER = re.compile(r"\[(?:KUNDE|BESTELLNUMMER|SENDUNGSNUMMER)_\d+\]")


def _error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> Answer:
    return Answer(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})


class LlmSandbox(SandboxServer):
    label = "llm"

    def __init__(self, *, model: str = "demo-llm", api_key: str = "") -> None:
        super().__init__(rate=100, burst=100)
        self.model = model
        self.api_key = api_key
        self.route("POST", "/v1/chat/completions", self.chat)
        self.route("GET", "/v1/models", self.models)

    def authorize(self, request: Request) -> Answer | None:
        if self.api_key and request.headers.get("authorization", "") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        return None

    def models(self, request: Request) -> Answer:
        return Answer(200, {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "sandbox"}]})

    def prompts(self) -> list[dict[str, Any]]:
        """Every chat request body received (what left the machine)."""
        return [r.json() for r in self.requests_to("POST", "/v1/chat/completions")]

    def chat(self, request: Request) -> Answer:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict) or body.get("model") != self.model:
            return _error(404, f"The model `{body.get('model') if isinstance(body, dict) else None}` does not exist.",
                          "invalid_request_error", "model_not_found")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, dict) and m.get("role") in ("system", "user", "assistant")
                and isinstance(m.get("content"), str) for m in messages):
            return _error(400, "'messages' must be a non-empty array of {role, content}.")
        prompt = "\n".join(m["content"] for m in messages)
        found = list(dict.fromkeys(_PLACEHOLDER.findall(prompt)))
        customer = next((p for p in found if p.startswith("[KUNDE")), None)
        order = next((p for p in found if p.startswith("[BESTELLNUMMER")), None)
        greeting = f"Guten Tag {customer}," if customer else "Guten Tag,"
        order_part = f" zu Ihrer Bestellung {order}" if order else ""
        content = (f"{greeting}\n\nvielen Dank für Ihre Nachricht{order_part}. Wir haben uns Ihr Anliegen angesehen "
                   "und kümmern uns umgehend darum. Sobald wir Neuigkeiten haben, melden wir uns bei Ihnen.\n\n"
                   "Mit freundlichen Grüßen")
        return Answer(200, {
            "id": f"chatcmpl-sandbox{len(self.log)}", "object": "chat.completion", "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": (len(prompt) + len(content)) // 4},
        })
