"""Export everything held about one person (GDPR Art. 15 access, Art. 20 portability).

One ZIP file with:
  data.json               schema-versioned JSON of every record (schema/data.schema.json)
  csv/*.csv               the same records as tables
  messages/*.eml          every message as an e-mail file
  attachments/*           attachment contents
  Anschreiben.txt         cover letter in German and English (purposes, categories,
                          recipients, retention, rights, sources)
  manifest.json           SHA-256 and size of every other file

The export is written with mode 0600 to the path the admin chooses, recorded in `exports`
(so an erasure can remove the file again) and in the audit log (counts and the ZIP's hash,
no content).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sqlite3
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from deskterm.store.audit import append_audit
from deskterm.store.gdpr import person_group

EXPORT_SCHEMA = "deskterm-export/1"

DATA_SCHEMA: dict[str, object] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://deskterm.invalid/schemas/export-1.json",
    "title": "deskterm data-subject export",
    "type": "object",
    "required": ["schema", "generated_at", "customers", "identities", "tickets", "messages", "orders"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": EXPORT_SCHEMA},
        "generated_at": {"type": "string", "format": "date-time"},
        "customers": {"type": "array", "items": {"type": "object", "required": ["id", "display_name"],
                                                 "properties": {"id": {"type": "integer"},
                                                                "display_name": {"type": "string"}}}},
        "identities": {"type": "array", "items": {"type": "object", "required": ["kind", "value"],
                                                  "properties": {"kind": {"type": "string"},
                                                                 "value": {"type": "string"}}}},
        "tickets": {"type": "array", "items": {"type": "object",
                                               "required": ["id", "channel", "subject", "status", "created_at"]}},
        "messages": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "ticket_id", "direction", "sender_name", "sender_addr", "sent_at", "subject",
                         "body_text", "eml"],
            "properties": {"direction": {"enum": ["in", "out", "note"]}, "eml": {"type": "string"},
                           "attachments": {"type": "array", "items": {
                               "type": "object", "required": ["filename", "content_type", "size", "sha256"]}}}}},
        "orders": {"type": "array", "items": {"type": "object",
                                              "required": ["number", "channel", "status", "placed_at", "total_cents",
                                                           "items"]}},
        "audit_entries": {"type": "array"},
    },
}

COVER_LETTER = """\
Auskunft nach Art. 15 DSGVO / Datenübertragbarkeit nach Art. 20 DSGVO
=====================================================================

Erstellt am {date} für: {name}

Zwecke der Verarbeitung: Abwicklung Ihrer Bestellungen, Beantwortung Ihrer Anfragen über
die unten genannten Kanäle, Erfüllung gesetzlicher Aufbewahrungspflichten.
Kategorien: Kontaktdaten und Kennungen ({identity_kinds}), Nachrichten ({messages}),
Anhänge ({attachments}), Bestellungen mit Artikeln, Lieferadresse, Sendungen, Retouren und
Erstattungen ({orders}).
Empfänger / Herkunft: die angebundenen Marktplätze und Postfächer: {recipients}.
Speicherdauer: Nachrichten bis zur Erledigung bzw. bis zu Ihrem Löschwunsch; Buchungsbelege
(Bestellungen, Rechnungen) 8 Jahre nach Ende des Kalenderjahres (HGB §257, AO §147).
Ihre Rechte: Auskunft, Berichtigung, Löschung, Einschränkung, Datenübertragbarkeit,
Widerspruch (Art. 15–21 DSGVO) sowie Beschwerde bei einer Datenschutz-Aufsichtsbehörde.
Inhalt dieses Archivs: data.json (maschinenlesbar, Schema in schema/), csv/ (Tabellen),
messages/ (jede Nachricht als .eml), attachments/ (Anhänge), manifest.json (Prüfsummen).

---------------------------------------------------------------------

Access request (Art. 15 GDPR) / data portability (Art. 20 GDPR)

Created on {date} for: {name}

Purposes: fulfilling your orders, answering your enquiries on the channels below, meeting
legal retention duties. Categories: contact data and identifiers ({identity_kinds}),
messages ({messages}), attachments ({attachments}), orders with items, delivery address,
shipments, returns and refunds ({orders}). Recipients / sources: the connected
marketplaces and mailboxes: {recipients}. Retention: messages until resolved or until you
ask for erasure; accounting records (orders, invoices) 8 years after the end of the
calendar year (German HGB §257, AO §147). Your rights: access, rectification, erasure,
restriction, portability, objection (Art. 15–21 GDPR) and complaint to a supervisory
authority. Contents: data.json (schema in schema/), csv/, messages/ (.eml), attachments/,
manifest.json (SHA-256 checksums).
"""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    sha256: str
    files: int
    messages: int
    attachments: int
    orders: int


def _iso(epoch: int | None) -> str | None:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat() if epoch is not None else None


def _rows(conn: sqlite3.Connection, sql: str, args: Sequence[object]) -> list[dict[str, object]]:
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _marks(ids: Sequence[object]) -> str:
    return ",".join("?" * len(ids)) or "NULL"


def _int(value: object) -> int:
    """SQLite integer columns come back as int; anything else is a bug worth a clear error."""
    if not isinstance(value, int):
        raise TypeError(f"expected an integer column, got {type(value).__name__}")
    return value


def _header(value: str) -> str:
    """A header value that cannot inject headers: no line breaks or other controls."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value)[:80] or "datei"


def _eml(message: dict[str, object], ticket_subject: str) -> bytes:
    mail = EmailMessage()
    name, address = _header(str(message["sender_name"])), _header(str(message["sender_addr"]))
    mail["From"] = f"{name} <{address}>" if "@" in address else name or "unbekannt"
    mail["Subject"] = _header(str(message["subject"] or ticket_subject))
    mail["Date"] = format_datetime(datetime.fromtimestamp(_int(message["sent_at"]), timezone.utc))
    mail["Message-ID"] = f"<deskterm-export-{message['id']}@deskterm.invalid>"
    body = str(message["body_text"])
    if message.get("body_quoted"):
        body += "\n\n" + str(message["body_quoted"])
    mail.set_content(body)
    return bytes(mail)


def export_person(conn: sqlite3.Connection, customer_id: int, out: Path, *, now: int, actor: str) -> ExportResult:
    """Write the ZIP (in the caller's transaction for the bookkeeping rows)."""
    group = person_group(conn, customer_id)
    m = _marks(group)
    customers = _rows(conn, f"SELECT id, display_name, created_at FROM customers WHERE id IN ({m})", group)
    identities = _rows(conn, f"SELECT kind, value FROM identities WHERE customer_id IN ({m}) ORDER BY id", group)
    tickets = _rows(conn, f"SELECT id, channel, subject, status, order_ref, created_at, last_message_at "
                          f"FROM tickets WHERE customer_id IN ({m}) ORDER BY id", group)
    ticket_ids = [_int(t["id"]) for t in tickets]
    subjects = {t["id"]: str(t["subject"]) for t in tickets}
    messages = _rows(conn, f"SELECT id, ticket_id, direction, sender_name, sender_addr, sent_at, subject, body_text, "
                           f"body_quoted FROM messages WHERE ticket_id IN ({_marks(ticket_ids)}) ORDER BY sent_at, id",
                     ticket_ids)
    orders = _rows(conn, f"SELECT o.id, o.number, a.channel, o.status, o.placed_at, o.total_cents, o.currency, "
                         f"o.payment_status, o.ship_to, o.buyer_email, o.buyer_phone FROM orders o "
                         f"JOIN accounts a ON a.id = o.account_id WHERE o.customer_id IN ({m}) ORDER BY o.id", group)
    files: dict[str, bytes] = {}
    attachment_count = 0
    for message in messages:
        eml_name = f"messages/{message['ticket_id']}-{message['id']}.eml"
        files[eml_name] = _eml(message, subjects.get(message["ticket_id"], ""))
        message["eml"] = eml_name
        attachments: list[dict[str, object]] = []
        message["attachments"] = attachments
        for ordinal, filename, content_type, size, digest, data in conn.execute(
                "SELECT ordinal, filename, content_type, size, sha256, data FROM attachments WHERE message_id = ? "
                "ORDER BY ordinal", (message["id"],)):
            entry: dict[str, object] = {"filename": filename, "content_type": content_type, "size": size,
                                        "sha256": digest}
            if data is not None:
                path = f"attachments/{message['id']}-{ordinal}-{_safe_name(filename)}"
                files[path] = bytes(data)
                entry["file"] = path
                attachment_count += 1
            attachments.append(entry)
        message["sent_at"] = _iso(_int(message["sent_at"]))
    for order in orders:
        order["ship_to"] = json.loads(str(order["ship_to"]) or "{}")
        order["placed_at"] = _iso(_int(order["placed_at"]))
        order["items"] = _rows(conn, "SELECT sku, title, quantity, unit_price_cents FROM order_items WHERE order_id = ? "
                                     "ORDER BY line_no", [order["id"]])
        order["shipments"] = _rows(conn, "SELECT carrier, tracking_number, status FROM shipments WHERE order_id = ?",
                                   [order["id"]])
        order["returns"] = _rows(conn, "SELECT status, reason FROM returns WHERE order_id = ?", [order["id"]])
        order["refunds"] = _rows(conn, "SELECT amount_cents, status FROM refunds WHERE order_id = ?", [order["id"]])
    for ticket in tickets:
        ticket["created_at"] = _iso(_int(ticket["created_at"]))
        ticket["last_message_at"] = _iso(_int(ticket["last_message_at"]))
    targets = [f"customer:{c}" for c in group] + [f"ticket:{t}" for t in ticket_ids]
    audit_entries = _rows(conn, f"SELECT at, actor, action, target FROM audit_log WHERE target IN ({_marks(targets)}) "
                                "ORDER BY id", targets)
    generated = datetime.fromtimestamp(now, timezone.utc)
    data = {"schema": EXPORT_SCHEMA, "generated_at": generated.isoformat(), "customers": customers,
            "identities": identities, "tickets": tickets, "messages": messages, "orders": orders,
            "audit_entries": audit_entries}
    files["data.json"] = json.dumps(data, ensure_ascii=False, indent=2).encode()
    files["schema/data.schema.json"] = json.dumps(DATA_SCHEMA, indent=2).encode()
    for name, rows in (("identities", identities), ("tickets", tickets), ("orders", orders), ("messages", messages)):
        files[f"csv/{name}.csv"] = _csv(rows)
    recipients = ", ".join(f"{name} ({channel})" for name, channel in conn.execute(
        "SELECT name, channel FROM accounts ORDER BY id"))
    files["Anschreiben.txt"] = COVER_LETTER.format(
        date=generated.strftime("%d.%m.%Y"), name=customers[0]["display_name"] if customers else "",
        identity_kinds=", ".join(sorted({str(i["kind"]) for i in identities})) or "–", messages=len(messages),
        attachments=attachment_count, orders=len(orders), recipients=recipients or "–").encode()
    manifest = {"schema": EXPORT_SCHEMA, "files": [
        {"path": path, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
        for path, content in sorted(files.items())]}
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(files.items()):
            archive.writestr(path, content)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    conn.execute("INSERT INTO exports(at, actor, customers, path, sha256) VALUES (?, ?, ?, ?, ?)",
                 (now, actor, json.dumps(group), str(out.resolve()), digest))
    append_audit(conn, now, actor, "gdpr.export", f"customer:{group[0]}",
                 {"customers": group, "messages": len(messages), "orders": len(orders), "zip_sha256": digest})
    return ExportResult(out, digest, len(files), len(messages), attachment_count, len(orders))


def _csv(rows: list[dict[str, object]]) -> bytes:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                             for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")
