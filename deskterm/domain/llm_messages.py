"""A chat message for an OpenAI-compatible API (built by store/assist_drafts.py, sent by
sources/llm.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str  # system, user, assistant
    content: str
