"""Writing what sources pull: idempotent upserts keyed by (account_id, external_id).

`apply_batch` stores every record of a batch and the source's new cursor in one
transaction, so a crash at any point leaves either the whole batch or none of it, and the
next sync resumes from the last committed cursor. Upserts skip rows that would not change,
so re-running a sync over unchanged data writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from deskterm.model import (
    Batch,
    CustomerRecord,
    IdentityRef,
    MessageRecord,
    OrderRecord,
    TicketRecord,
)
from deskterm.domain.identity import canonical_identity, name_postcode_key, normalize_email, normalize_phone
from deskterm.store.awaiting import refresh_awaiting
from deskterm.store.triage import change_status
from deskterm.store.customers import resolve_touched
from deskterm.store.db import Store
from deskterm.store.gdpr import identity_hash
from deskterm.store.mail_writes import apply_flags, apply_folder_state, store_mail, sync_read_state


def _upsert_sql(table: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """INSERT ... ON CONFLICT DO UPDATE that touches the row only if a column changed.

    Skipping unchanged rows is what makes a re-sync over the same data write nothing.
    """
    names = keys + columns
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    changed = " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in columns)
    return (f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET {updates} WHERE {changed}")


_ORDER_UPSERT = _upsert_sql("orders", ("account_id", "external_id"), (
    "number", "customer_id", "identity_id", "status", "placed_at", "total_cents", "currency", "payment_status",
    "ship_to", "buyer_email", "buyer_phone", "name_postcode", "delivery_from", "delivery_to"))
_ITEM_UPSERT = _upsert_sql("order_items", ("order_id", "line_no"), ("sku", "title", "quantity", "unit_price_cents"))
_SHIPMENT_UPSERT = _upsert_sql("shipments", ("order_id", "external_id"),
                               ("carrier", "tracking_number", "status", "shipped_at"))
_EVENT_INSERT = ("INSERT OR IGNORE INTO shipment_events(shipment_id, at, status, description, location) "
                 "VALUES (?, ?, ?, ?, ?)")
_RETURN_UPSERT = _upsert_sql("returns", ("order_id", "external_id"), ("status", "reason", "created_at"))
_REFUND_UPSERT = _upsert_sql("refunds", ("order_id", "external_id"), ("amount_cents", "status", "created_at"))
_CANCELLATION_UPSERT = _upsert_sql("cancellations", ("order_id", "external_id"), ("status", "reason", "requested_at"))
_MESSAGE_UPSERT = _upsert_sql("messages", ("account_id", "external_id"), (
    "ticket_id", "direction", "sender_name", "sender_addr", "sent_at", "subject", "body_text", "body_quoted",
    "parse_warning", "raw_sha256"))
_ATTACHMENT_UPSERT = _upsert_sql("attachments", ("message_id", "ordinal"),
                                 ("filename", "content_type", "size", "sha256", "data"))


def epoch(value: datetime) -> int:
    """Store times as integer UTC epoch seconds."""
    return int(value.timestamp())


def _maybe_epoch(value: datetime | None) -> int | None:
    return None if value is None else epoch(value)


@dataclass(slots=True)
class BatchResult:
    customers: int = 0
    orders: int = 0
    tickets: int = 0
    messages: int = 0


def ensure_account(store: Store, key: str, channel: str, name: str, *, settings: dict[str, object] | None = None,
                   now: int) -> int:
    """Return the id of the account `key`, creating it on first use."""
    row = store.conn.execute("SELECT id FROM accounts WHERE key = ?", (key,)).fetchone()
    if row:
        return int(row[0])
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO accounts(key, channel, name, settings, created_at) VALUES (?, ?, ?, ?, ?)",
            (key, channel, name, json.dumps(settings or {}, sort_keys=True), now),
        )
        return int(cur.lastrowid or 0)


def get_cursor(conn: sqlite3.Connection, account_id: int, stream: str) -> str | None:
    row = conn.execute(
        "SELECT cursor FROM sync_state WHERE account_id = ? AND stream = ?", (account_id, stream)
    ).fetchone()
    return row[0] if row else None


def apply_batch(store: Store, account_id: int, stream: str | None, batch: Batch, *, now: int) -> BatchResult:
    """Store a batch and advance the stream's cursor atomically (stream None: no cursor to move)."""
    result = BatchResult()
    with store.transaction() as conn:
        checked_up_to = conn.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
        writer = _BatchWriter(conn, account_id, now)
        latest: dict[str, datetime] = {}
        for message in batch.messages:
            seen = latest.get(message.ticket_external_id)
            latest[message.ticket_external_id] = message.sent_at if seen is None else max(seen, message.sent_at)
        for customer in batch.customers:
            result.customers += writer.customer(customer) is not None
        for order in batch.orders:
            result.orders += writer.order(order) is not None
        for ticket in batch.tickets:
            result.tickets += writer.ticket(ticket, latest.get(ticket.external_id)) is not None
        for message in batch.messages:
            result.messages += writer.message(message) is not None
        for state in batch.folder_states:
            apply_folder_state(writer, state)
        for mail in batch.mails:
            result.messages += store_mail(writer, mail) is not None
        for change in batch.mail_flags:
            apply_flags(writer, change)
        writer.refresh_touched_tickets()
        refresh_awaiting(conn, sorted(writer.touched_tickets))
        if writer.mail_tickets:
            sync_read_state(conn, writer.mail_tickets)
        resolve_touched(conn, tickets=writer.touched_tickets, orders=writer.touched_orders, now=now,
                        messages_after=checked_up_to)
        # new buyer messages wait for assisted triage (store/assist.py), committed with them
        conn.execute("INSERT OR IGNORE INTO assist_queue(ticket_id) SELECT DISTINCT ticket_id FROM messages "
                     "WHERE id > ? AND direction = 'in'", (checked_up_to,))
        if stream is None:
            return result
        conn.execute(
            "INSERT INTO sync_state(account_id, stream, cursor, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(account_id, stream) DO UPDATE SET cursor = excluded.cursor, "
            "updated_at = excluded.updated_at WHERE sync_state.cursor IS NOT excluded.cursor",
            (account_id, stream, batch.cursor, now),
        )
    return result


class _BatchWriter:
    """The statements of one batch, sharing one transaction."""

    def __init__(self, conn: sqlite3.Connection, account_id: int, now: int) -> None:
        self.conn = conn
        self.account_id = account_id
        self.now = now
        self.touched_tickets: set[int] = set()
        self.touched_orders: set[int] = set()
        self.mail_tickets: set[int] = set()  # tickets whose read state follows the server's \Seen
        self._ticket_ids: dict[str, int] = {}
        # Erased identities: records they sent before the erasure are not imported again.
        self._any_erased = conn.execute("SELECT 1 FROM erased_identities LIMIT 1").fetchone() is not None
        self._skipped_tickets: dict[str, int] = {}  # external id -> erased_at (0: skip the whole ticket)
        self._pending_names: dict[tuple[str, str], str] = {}
        self._identities: dict[tuple[str, str], tuple[int, int]] = {}
        self._names_set: dict[int, str] = {}

    def erased_at(self, ref: IdentityRef | None) -> int | None:
        if ref is None or not self._any_erased:
            return None
        kind, value = canonical_identity(ref.kind, ref.value)
        row = self.conn.execute("SELECT erased_at FROM erased_identities WHERE hash = ?",
                                (identity_hash(self.conn, kind, value),)).fetchone()
        return int(row[0]) if row else None

    def resolve_identity(self, ref: IdentityRef, display_name: str = "") -> tuple[int, int]:
        """(customer id, identity id) for an identity, creating both when new.

        Cached for the batch: customers are merged only after all records are written.
        """
        cached = self._identities.get((ref.kind, ref.value))
        if cached is not None:
            return cached
        resolved = self._resolve_identity(ref, display_name)
        self._identities[(ref.kind, ref.value)] = resolved
        return resolved

    def _resolve_identity(self, ref: IdentityRef, display_name: str) -> tuple[int, int]:
        ref = IdentityRef(*canonical_identity(ref.kind, ref.value))
        row = self.conn.execute(
            "SELECT customer_id, id FROM identities WHERE kind = ? AND value = ?", (ref.kind, ref.value)
        ).fetchone()
        if row:
            return int(row[0]), int(row[1])
        display_name = display_name or self._pending_names.get((ref.kind, ref.value), "")
        cur = self.conn.execute(
            "INSERT INTO customers(display_name, created_at) VALUES (?, ?)", (display_name, self.now)
        )
        customer_id = int(cur.lastrowid or 0)
        cur = self.conn.execute(
            "INSERT INTO identities(customer_id, kind, value) VALUES (?, ?, ?)",
            (customer_id, ref.kind, ref.value),
        )
        return customer_id, int(cur.lastrowid or 0)

    def customer(self, record: CustomerRecord) -> int | None:
        if self.erased_at(record.key) is not None:
            # Created later only if this batch brings something dated after the erasure.
            self._pending_names[canonical_identity(record.key.kind, record.key.value)] = record.display_name
            return None
        customer_id, _ = self.resolve_identity(record.key, record.display_name)
        if record.display_name and self._names_set.get(customer_id) != record.display_name:
            self._names_set[customer_id] = record.display_name
            self.conn.execute(
                "UPDATE customers SET display_name = ? WHERE id = ? AND display_name IS NOT ?",
                (record.display_name, customer_id, record.display_name),
            )
        for ref in record.identities:
            self.conn.execute(
                "INSERT OR IGNORE INTO identities(customer_id, kind, value) VALUES (?, ?, ?)",
                (customer_id, *canonical_identity(ref.kind, ref.value)),
            )
        return customer_id

    def order(self, record: OrderRecord) -> int | None:
        erased = self.erased_at(record.customer)
        if erased is not None and epoch(record.placed_at) < erased:
            return None
        customer_id, identity_id = self.resolve_identity(record.customer) if record.customer else (None, None)
        ship_to = json.dumps(record.ship_to, sort_keys=True, ensure_ascii=False)
        email = normalize_email(record.buyer_email) or ""
        phone = normalize_phone(record.buyer_phone) or ""
        key = name_postcode_key(record.ship_to.get("name", ""), record.ship_to.get("postcode", ""))
        self.conn.execute(
            _ORDER_UPSERT,
            (self.account_id, record.external_id, record.number, customer_id, identity_id, record.status,
             epoch(record.placed_at), record.total_cents, record.currency, record.payment_status, ship_to,
             email, phone, key, _maybe_epoch(record.delivery_from), _maybe_epoch(record.delivery_to)),
        )
        order_id = int(self.conn.execute(
            "SELECT id FROM orders WHERE account_id = ? AND external_id = ?",
            (self.account_id, record.external_id),
        ).fetchone()[0])
        for item in record.items:
            self.conn.execute(
                _ITEM_UPSERT,
                (order_id, item.line_no, item.sku, item.title, item.quantity, item.unit_price_cents),
            )
        for shipment in record.shipments:
            shipped = epoch(shipment.shipped_at) if shipment.shipped_at else None
            self.conn.execute(
                _SHIPMENT_UPSERT,
                (order_id, shipment.external_id, shipment.carrier, shipment.tracking_number, shipment.status,
                 shipped),
            )
            if shipment.events:
                shipment_id = self.conn.execute(
                    "SELECT id FROM shipments WHERE order_id = ? AND external_id = ?", (order_id, shipment.external_id)
                ).fetchone()[0]
                for event in shipment.events:
                    self.conn.execute(_EVENT_INSERT, (shipment_id, epoch(event.at), event.status, event.description,
                                                      event.location))
        for ret in record.returns:
            self.conn.execute(_RETURN_UPSERT, (order_id, ret.external_id, ret.status, ret.reason, epoch(ret.created_at)))
        for refund in record.refunds:
            self.conn.execute(_REFUND_UPSERT, (order_id, refund.external_id, refund.amount_cents, refund.status,
                                               epoch(refund.created_at)))
        for cancel in record.cancellations:
            self.conn.execute(_CANCELLATION_UPSERT, (order_id, cancel.external_id, cancel.status, cancel.reason,
                                                     epoch(cancel.requested_at)))
        self.touched_orders.add(order_id)
        # Tickets that arrived before their order get linked now.
        self.conn.execute(
            "UPDATE tickets SET order_id = ? WHERE order_ref = ? AND order_ref <> '' AND order_id IS NULL",
            (order_id, record.number),
        )
        return order_id

    def ticket(self, record: TicketRecord, latest_message: datetime | None = None) -> int | None:
        erased = self.erased_at(record.customer)
        if erased is not None:
            newest = max(epoch(record.created_at), epoch(latest_message) if latest_message else 0)
            if newest < erased:
                self._skipped_tickets[record.external_id] = 0
                return None
            self._skipped_tickets[record.external_id] = erased  # keep only what came after the erasure
        customer_id, identity_id = self.resolve_identity(record.customer) if record.customer else (None, None)
        customer_name = ""
        if customer_id is not None:
            row = self.conn.execute("SELECT display_name FROM customers WHERE id = ?", (customer_id,)).fetchone()
            customer_name = row[0] if row else ""
        order_ref = record.order_ref or ""
        order_id = None
        if order_ref:
            row = self.conn.execute("SELECT id FROM orders WHERE number = ? AND restricted_reason IS NULL "
                                    "ORDER BY id LIMIT 1", (order_ref,)).fetchone()
            order_id = int(row[0]) if row else None
        created = epoch(record.created_at)
        self.conn.execute(
            """
            INSERT INTO tickets(account_id, external_id, channel, customer_id, identity_id, customer_name,
                                order_id, order_ref, subject, status, created_at, last_message_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(account_id, external_id) DO UPDATE SET
                customer_id = excluded.customer_id, identity_id = excluded.identity_id,
                customer_name = excluded.customer_name,
                order_id = coalesce(excluded.order_id, tickets.order_id),
                order_ref = CASE WHEN excluded.order_ref <> '' THEN excluded.order_ref ELSE tickets.order_ref END,
                subject = excluded.subject
            WHERE tickets.customer_id IS NOT excluded.customer_id
               OR tickets.identity_id IS NOT excluded.identity_id
               OR tickets.customer_name IS NOT excluded.customer_name
               OR (excluded.order_id IS NOT NULL AND tickets.order_id IS NOT excluded.order_id)
               OR (excluded.order_ref <> '' AND tickets.order_ref IS NOT excluded.order_ref)
               OR tickets.subject IS NOT excluded.subject
            """,
            (self.account_id, record.external_id, str(record.channel), customer_id, identity_id, customer_name,
             order_id, order_ref, record.subject, str(record.status), created, created),
        )
        ticket_id = self._ticket_id(record.external_id)
        self.touched_tickets.add(ticket_id)
        return ticket_id

    def _ticket_id(self, external_id: str) -> int:
        cached = self._ticket_ids.get(external_id)
        if cached is not None:
            return cached
        row = self.conn.execute(
            "SELECT id FROM tickets WHERE account_id = ? AND external_id = ?", (self.account_id, external_id)
        ).fetchone()
        if row is None:
            raise ValueError(f"message refers to unknown ticket {external_id!r}; a batch must carry its tickets")
        self._ticket_ids[external_id] = int(row[0])
        return int(row[0])

    def forget_ticket(self, ticket_id: int) -> None:
        """A ticket was merged away inside this batch: drop it from caches and touched sets."""
        self._ticket_ids = {k: v for k, v in self._ticket_ids.items() if v != ticket_id}
        self.touched_tickets.discard(ticket_id)
        self.mail_tickets.discard(ticket_id)

    def message(self, record: MessageRecord) -> int | None:
        skipped = self._skipped_tickets.get(record.ticket_external_id)
        if skipped == 0 or (skipped and epoch(record.sent_at) < skipped):
            return None
        return self.upsert_message(record, self._ticket_id(record.ticket_external_id))

    def upsert_message(self, record: MessageRecord, ticket_id: int, *, raw_sha256: str | None = None) -> int:
        if str(record.direction) == "out":
            self._adopt_own_reply(record, ticket_id)
        written = self.conn.execute(
            _MESSAGE_UPSERT + " RETURNING id",
            (self.account_id, record.external_id, ticket_id, str(record.direction), record.sender_name,
             record.sender_addr, epoch(record.sent_at), record.subject, record.body_text,
             record.body_quoted, record.parse_warning, raw_sha256),
        ).fetchone()
        if written is None:  # unchanged: the upsert's WHERE skipped the row, so nothing was returned
            written = self.conn.execute("SELECT id FROM messages WHERE account_id = ? AND external_id = ?",
                                        (self.account_id, record.external_id)).fetchone()
        message_id = int(written[0])
        for ordinal, attachment in enumerate(record.attachments):
            self.conn.execute(
                _ATTACHMENT_UPSERT,
                (message_id, ordinal, attachment.filename, attachment.content_type, attachment.size,
                 attachment.sha256, attachment.data),
            )
        self.touched_tickets.add(ticket_id)
        return message_id

    def _adopt_own_reply(self, record: MessageRecord, ticket_id: int) -> None:
        """A seller message the channel reports may be a reply sent from here (API channels
        give it their own id): the local reply row takes the channel's id instead of a
        second copy being stored. Mail has Message-IDs and never gets here unmatched."""
        if self.conn.execute("SELECT 1 FROM messages WHERE account_id = ? AND external_id = ?",
                             (self.account_id, record.external_id)).fetchone():
            return
        own = self.conn.execute(
            "SELECT m.id FROM messages m JOIN outbox o ON o.message_row = m.id "
            "WHERE m.ticket_id = ? AND m.direction = 'out' AND m.external_id = o.message_id "
            "AND o.status IN ('sent', 'sending') AND m.body_text = ? ORDER BY m.id LIMIT 1",
            (ticket_id, record.body_text)).fetchone()
        if own is not None:
            self.conn.execute("UPDATE messages SET external_id = ? WHERE id = ?", (record.external_id, own[0]))

    def refresh_touched_tickets(self) -> None:
        """Recompute list columns from the ticket's messages (bounded by its index range).

        A newer buyer message marks the ticket unread and reopens a resolved one.
        """
        for ticket_id in sorted(self.touched_tickets):
            count, last_any, last_in = self.conn.execute(
                "SELECT count(*), max(sent_at), max(CASE WHEN direction = 'in' THEN sent_at END) "
                "FROM messages WHERE ticket_id = ?",
                (ticket_id,),
            ).fetchone()
            created, old_last_in, status = self.conn.execute(
                "SELECT created_at, last_customer_message_at, status FROM tickets WHERE id = ?", (ticket_id,)
            ).fetchone()
            last_message_at = max(created, last_any or created)
            newer_from_buyer = last_in is not None and (old_last_in is None or last_in > old_last_in)
            # A follow-up reopens a resolved, snoozed or waiting ticket; a ticket first seen as
            # resolved stays so.
            reopen = newer_from_buyer and old_last_in is not None and status in ("resolved", "snoozed", "pending")
            if reopen:
                change_status(self.conn, ticket_id, "open", self.now)
            self.conn.execute(
                """
                UPDATE tickets SET message_count = ?, last_message_at = ?, last_customer_message_at = ?,
                    unread = CASE WHEN ? AND (? OR status <> 'resolved') THEN 1 ELSE unread END,
                    resolved_at = CASE WHEN status = 'resolved' AND resolved_at IS NULL THEN ?2 ELSE resolved_at END
                WHERE id = ? AND (message_count IS NOT ? OR last_message_at IS NOT ?
                                  OR last_customer_message_at IS NOT ? OR ? OR (status = 'resolved' AND resolved_at IS NULL))
                """,
                (count, last_message_at, last_in, newer_from_buyer, reopen, ticket_id,
                 count, last_message_at, last_in, newer_from_buyer),
            )
