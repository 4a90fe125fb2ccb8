"""Argument-parser helpers shared by the CLI's command groups."""

from __future__ import annotations

import argparse
from typing import Any


def action_parser(actions: argparse._SubParsersAction, name: str, **kwargs: Any) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """An action parser that also takes --profile after the action (deskterm X ACTION --profile P)."""
    parser = actions.add_parser(name, **kwargs)
    parser.add_argument("--profile", dest="profile", default=argparse.SUPPRESS)
    return parser
