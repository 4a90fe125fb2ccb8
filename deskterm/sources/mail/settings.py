"""An e-mail account's settings as stored in `accounts.settings` (JSON), validated in one place.

Passwords are never part of the settings: `password_ref` names a keyring entry
(`keyring:<service>/<user>`), resolved by deskterm.secrets when a connection opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

SECURITY_MODES = ("tls", "starttls", "plain")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class MailSettingsError(ValueError):
    """Settings that cannot work; the message is one line."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str
    port: int
    security: str  # tls (implicit), starttls, plain (only with allow_plaintext)
    user: str
    password_ref: str
    allow_plaintext: bool = False
    timeout: float = 30.0
    ca_file: str = ""  # a private CA's certificate (self-hosted servers); empty: the system's CAs

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name are always verified; only the trusted CAs can change."""
        import ssl  # only when connecting: keeps the app's start light

        return ssl.create_default_context(cafile=self.ca_file or None)

    def check(self, what: str) -> None:
        if not self.host:
            raise MailSettingsError(f"{what}: no host given")
        if not 0 < self.port < 65536:
            raise MailSettingsError(f"{what}: port {self.port} is not a port number")
        if self.security not in SECURITY_MODES:
            raise MailSettingsError(f"{what}: security must be one of {', '.join(SECURITY_MODES)}")
        if self.ca_file and not Path(self.ca_file).expanduser().is_file():
            raise MailSettingsError(f"{what}: CA file {self.ca_file} not found")
        if self.security == "plain" and not self.allow_plaintext:
            raise MailSettingsError(f"{what}: refusing an unencrypted connection to {self.host}; "
                                    "use tls or starttls, or allow plain text explicitly (--allow-plaintext)")


@dataclass(frozen=True, slots=True)
class MailAccountSettings:
    imap: ServerSettings | None
    smtp: ServerSettings | None
    addresses: tuple[str, ...]  # the seller's own addresses: mail from them is outgoing
    folders: tuple[str, ...] = ("INBOX", "Sent")
    sent_folder: str = "Sent"
    maildir: str = ""  # a local Maildir instead of IMAP (mbsync, offlineimap)
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    batch_messages: int = 500
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def from_address(self) -> str:
        return self.addresses[0] if self.addresses else (self.smtp.user if self.smtp else "")

    def to_json(self) -> dict[str, Any]:
        def server(s: ServerSettings | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"host": s.host, "port": s.port, "security": s.security, "user": s.user,
                    "password_ref": s.password_ref, "allow_plaintext": s.allow_plaintext, "timeout": s.timeout,
                    "ca_file": s.ca_file}

        return {"source": "maildir" if self.maildir else "imap", "imap": server(self.imap), "smtp": server(self.smtp),
                "addresses": list(self.addresses), "folders": list(self.folders), "sent_folder": self.sent_folder,
                "maildir": self.maildir, "max_message_bytes": self.max_message_bytes,
                "batch_messages": self.batch_messages}


def _server(raw: Any, what: str) -> ServerSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MailSettingsError(f"{what}: settings are not a table")
    try:
        settings = ServerSettings(str(raw.get("host", "")), int(raw.get("port", 0)), str(raw.get("security", "tls")),
                                  str(raw.get("user", "")), str(raw.get("password_ref", "")),
                                  bool(raw.get("allow_plaintext", False)), float(raw.get("timeout", 30.0)),
                                  str(raw.get("ca_file", "") or ""))
    except (TypeError, ValueError) as exc:
        raise MailSettingsError(f"{what}: {exc}") from None
    settings.check(what)
    return settings


def mail_settings(raw: dict[str, Any]) -> MailAccountSettings:
    """Validate an account's stored settings."""
    imap = _server(raw.get("imap"), "IMAP")
    smtp = _server(raw.get("smtp"), "SMTP")
    maildir = str(raw.get("maildir", "") or "")
    if imap is None and not maildir:
        raise MailSettingsError("mail account has neither an IMAP server nor a Maildir")
    folders = tuple(str(f) for f in raw.get("folders", ("INBOX", "Sent")))
    try:
        max_bytes = int(raw.get("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES))
        batch = int(raw.get("batch_messages", 500))
    except (TypeError, ValueError) as exc:
        raise MailSettingsError(f"mail account: {exc}") from None
    return MailAccountSettings(imap, smtp, tuple(str(a).lower() for a in raw.get("addresses", ())), folders,
                               str(raw.get("sent_folder", "Sent")), maildir, max(1024, max_bytes), max(1, batch))
