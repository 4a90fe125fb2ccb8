"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives.

`reply_data` / `refuse` let a test make it answer 4xx/5xx or refuse single recipients;
`on_connect` / `on_data` run at EHLO and after DATA (the crash tests kill the sender there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes

from aiosmtpd.controller import Controller

from tests.helpers.dovecot import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message_id(self) -> str:
        return str(message_from_bytes(self.data).get("Message-ID", "")).strip().strip("<>")


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    reply_data: str = "250 2.0.0 Ok: queued"
    refuse: dict[str, str] = field(default_factory=dict)
    on_connect: Callable[[], None] | None = None  # called at EHLO (e.g. to kill the client there)
    on_data: Callable[[], None] | None = None  # called after DATA is received, before the reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        session.host_name = hostname
        if self.on_connect is not None:
            self.on_connect()
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.on_data is not None:
            self.on_data()
        if self.reply_data.startswith("250"):
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return self.reply_data


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
