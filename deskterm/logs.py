"""A rotating log file in the platform state dir, with secrets redacted.

deskterm logs what happened (sync counts, errors in one line), never message bodies; the
redacting filter is a second line of defence for credentials that slip into a message.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

_SECRET_PATTERNS = (
    re.compile(r"(?i)(authorization:\s*(bearer|basic)\s+)\S+"),
    re.compile(r"(?i)\b((access|refresh)_token|password|passwd|client_secret|api[_-]?key)(\"?\s*[=:]\s*\"?)[^\s\"&,;]+"),
    re.compile(r"(?i)(://[^/\s:@]+:)[^@\s/]+@"),
)
_QUIET_LOGGERS = ("httpx", "httpcore", "imapclient", "asyncio", "markdown_it")


def redact(text: str) -> str:
    """Replace anything that looks like a credential with ***."""
    text = _SECRET_PATTERNS[0].sub(r"\1***", text)
    text = _SECRET_PATTERNS[1].sub(r"\1\3***", text)
    return _SECRET_PATTERNS[2].sub(r"\1***@", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(log_file: Path, *, level: int = logging.INFO) -> None:
    """Log to `log_file` (1 MB, 3 backups, mode 0600)."""
    log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    os.chmod(log_file, 0o600)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.handlers.RotatingFileHandler)]
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
