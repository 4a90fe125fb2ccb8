"""Parse-stage throughput on realistic mail (groundwork for the e-mail ingest benchmark).

    python benchmarks/bench_parse.py --messages 20000

Builds N MIME messages from the demo world's German buyer texts (half multipart/alternative
with an HTML part, one in ten with a PDF attachment, quoted history where the demo has
it), then measures messages/s for:
  stdlib compat32        email.message_from_bytes(policy=compat32), parse only
  stdlib policy.default  parse + get_body(('plain', 'html')).get_content()
  deskterm parse_message the full normalisation the e-mail channel will use
  deskterm, 2 processes  the same on both cores (multiprocessing.Pool, chunks of 500)
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import time
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import compat32, default
from email.utils import format_datetime

from deskterm.sandbox.demo_world import DemoWorld
from deskterm.sources.mail.parse import parse_message

ANCHOR = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
PDF = base64.encodebytes(b"%PDF-1.4\n" + b"0" * 30_000).decode()


def build(count: int) -> list[bytes]:
    world = DemoWorld(anchor=ANCHOR, tickets=count, mean_messages=2.6, span_days=60)
    mails: list[bytes] = []
    index = 0
    while len(mails) < count:
        conversation = world.conversation(index % world.ticket_count)
        for n, message in enumerate(conversation.messages):
            if len(mails) >= count:
                break
            body = message.body_text + ("\n\n" + message.body_quoted if message.body_quoted else "")
            headers = (f"From: {message.sender_name} <{message.sender_addr or 'kunde@example.test'}>\n"
                       f"To: service@lindenhof-haushalt.de\nSubject: {message.subject or 'Anfrage'}\n"
                       f"Date: {format_datetime(message.sent_at)}\nMessage-ID: <m{index}-{n}@demo.example>\n"
                       "MIME-Version: 1.0\n")
            if n:  # replies carry thread headers, as real mail does
                references = " ".join(f"<m{index}-{k}@demo.example>" for k in range(n))
                headers += f"In-Reply-To: <m{index}-{n - 1}@demo.example>\nReferences: {references}\n"
            kind = len(mails) % 10
            if kind < 5:
                text = f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n"
            else:
                html = "<html><body>" + "".join(f"<p>{line}</p>" for line in body.splitlines()) + "</body></html>"
                text = ('Content-Type: multipart/mixed; boundary="outer"\n\n--outer\n'
                        'Content-Type: multipart/alternative; boundary="alt"\n\n'
                        f"--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n"
                        f"--alt\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{html}\n"
                        "--alt--\n")
                if kind == 9:
                    text += ('--outer\nContent-Type: application/pdf; name="rechnung.pdf"\n'
                             'Content-Disposition: attachment; filename="rechnung.pdf"\n'
                             f"Content-Transfer-Encoding: base64\n\n{PDF}")
                text += "--outer--\n"
            mails.append((headers + text).encode("utf-8"))
        index += 1
    return mails


def _rate(name: str, mails: list[bytes], work) -> dict[str, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for raw in mails:
        work(raw)
    seconds = time.perf_counter() - start
    return {"stage": name, "messages_per_second": round(len(mails) / seconds), "ms_per_message": round(1000 * seconds / len(mails), 3)}


def _stdlib_default(raw: bytes) -> None:
    message = message_from_bytes(raw, policy=default)
    body = message.get_body(("plain", "html"))
    if body is not None:
        body.get_content()


def _parse_chunk(chunk: list[bytes]) -> int:
    return sum(1 for raw in chunk if parse_message(raw).message_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    mails = build(args.messages)
    results = [
        _rate("stdlib compat32 (parse only)", mails, lambda raw: message_from_bytes(raw, policy=compat32)),
        _rate("stdlib policy.default + body", mails, _stdlib_default),
        _rate("deskterm parse_message", mails, parse_message),
    ]
    chunks = [mails[i:i + 500] for i in range(0, len(mails), 500)]
    start = time.perf_counter()
    with multiprocessing.Pool(2) as pool:
        parsed = sum(pool.map(_parse_chunk, chunks))
    seconds = time.perf_counter() - start
    results.append({"stage": "deskterm parse_message, 2 processes", "messages_per_second": round(parsed / seconds),
                    "ms_per_message": round(1000 * seconds / parsed, 3)})
    print(json.dumps({"messages": len(mails), "average_bytes": sum(map(len, mails)) // len(mails),
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
