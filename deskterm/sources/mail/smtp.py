"""Sending one prepared mail over SMTP, and putting a copy in the IMAP Sent folder once.

The bytes are built once, when a reply is queued (store.outbox), so a retry sends exactly
the same message with the same Message-ID. Errors are sorted the way the outbox needs them:
4xx replies, timeouts and dropped connections are temporary (retry with backoff); 5xx
replies and refused logins are permanent (shown on the ticket). Recipients refused while
others were accepted are returned, so they can be recorded.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass

from deskterm.sources.base import SourceError
from deskterm.sources.mail.settings import ServerSettings


@dataclass(frozen=True, slots=True)
class SmtpResult:
    server_reply: str  # e.g. "250 2.0.0 Ok: queued as 4F3A"
    refused: dict[str, str]  # recipient -> the server's refusal


def _open(server: ServerSettings, password: str) -> smtplib.SMTP:
    context = server.tls_context()
    if server.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    smtp.ehlo_or_helo_if_needed()
    if server.security == "starttls":
        smtp.starttls(context=context)
        smtp.ehlo()
    if server.user and smtp.has_extn("auth"):
        smtp.login(server.user, password)
    return smtp


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply).replace("\n", " ")[:200]


def _fail(server: ServerSettings, exc: BaseException) -> SourceError:
    where = f"SMTP {server.host}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SourceError(f"{where}: login refused ({exc.smtp_code}); check the password", temporary=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        temporary = 400 <= exc.smtp_code < 500
        return SourceError(f"{where}: {exc.smtp_code} {_text(exc.smtp_error)}", temporary=temporary)
    if isinstance(exc, ssl.SSLError):
        return SourceError(f"{where}: TLS failed ({exc.reason or exc})", temporary=False)
    return SourceError(f"{where}: {type(exc).__name__}: {str(exc)[:120]}", temporary=True)


def smtp_login_check(server: ServerSettings, password: str) -> None:
    try:
        smtp = _open(server, password)
        smtp.quit()
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise _fail(server, exc) from None


def send_raw(server: ServerSettings, password: str, sender: str, recipients: list[str], raw: bytes) -> SmtpResult:
    """Deliver `raw` to the server. Raises SourceError (temporary or permanent)."""
    try:
        smtp = _open(server, password)
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused: dict[str, str] = {}
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = f"{code} {_text(reply)}"
            if len(refused) == len(recipients):
                smtp.rset()
                first = next(iter(refused.values()))
                raise SourceError(f"SMTP {server.host}: every recipient refused: {first}",
                                  temporary=first.startswith("4"))
            code, reply = smtp.data(raw)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return SmtpResult(f"{code} {_text(reply)}", refused)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except SourceError:
        raise
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise _fail(server, exc) from None
