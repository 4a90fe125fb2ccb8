"""Forward-only schema migrations, versioned with `PRAGMA user_version`.

Each entry of MIGRATIONS moves the schema from version N to N+1 and is applied in its own
transaction together with the new user_version. Never edit a released migration; append.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

APPLICATION_ID = 0x44534B54  # "DSKT": marks a SQLite file as a deskterm store.

_V1 = """
CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    channel     TEXT NOT NULL,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);

CREATE TABLE customers (
    id           INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);

CREATE TABLE identities (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX identities_customer ON identities(customer_id);

CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    external_id    TEXT NOT NULL,
    number         TEXT NOT NULL,
    customer_id    INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    status         TEXT NOT NULL,
    placed_at      INTEGER NOT NULL,
    total_cents    INTEGER NOT NULL,
    currency       TEXT NOT NULL DEFAULT 'EUR',
    payment_status TEXT NOT NULL DEFAULT '',
    ship_to        TEXT NOT NULL DEFAULT '{}',
    UNIQUE (account_id, external_id)
);
CREATE INDEX orders_number ON orders(number);
CREATE INDEX orders_customer ON orders(customer_id);

CREATE TABLE order_items (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL,
    sku              TEXT NOT NULL,
    title            TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    UNIQUE (order_id, line_no)
);

CREATE TABLE shipments (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    external_id     TEXT NOT NULL,
    carrier         TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    status          TEXT NOT NULL,
    shipped_at      INTEGER,
    UNIQUE (order_id, external_id)
);

CREATE TABLE tickets (
    id                        INTEGER PRIMARY KEY,
    account_id                INTEGER NOT NULL REFERENCES accounts(id),
    external_id               TEXT NOT NULL,
    channel                   TEXT NOT NULL,
    customer_id               INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    customer_name             TEXT NOT NULL DEFAULT '',
    order_id                  INTEGER REFERENCES orders(id) ON DELETE SET NULL,
    order_ref                 TEXT NOT NULL DEFAULT '',
    subject                   TEXT NOT NULL DEFAULT '',
    status                    TEXT NOT NULL DEFAULT 'open',
    created_at                INTEGER NOT NULL,
    last_message_at           INTEGER NOT NULL,
    last_customer_message_at  INTEGER,
    message_count             INTEGER NOT NULL DEFAULT 0,
    unread                    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, external_id)
);
CREATE INDEX tickets_activity ON tickets(last_message_at DESC, id DESC);
CREATE INDEX tickets_status_activity ON tickets(status, last_message_at DESC, id DESC);
CREATE INDEX tickets_customer ON tickets(customer_id);
CREATE INDEX tickets_order_ref ON tickets(order_ref) WHERE order_ref <> '';

-- Ticket counts per (status, channel), kept by triggers so headers and list sizes are O(1)
-- however many tickets the store holds.
CREATE TABLE ticket_counts (
    status  TEXT NOT NULL,
    channel TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (status, channel)
) WITHOUT ROWID;
CREATE TRIGGER tickets_count_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_counts(status, channel, n) VALUES (new.status, new.channel, 1)
    ON CONFLICT(status, channel) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER tickets_count_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE status = old.status AND channel = old.channel;
END;
CREATE TRIGGER tickets_count_update AFTER UPDATE OF status, channel ON tickets
WHEN old.status IS NOT new.status OR old.channel IS NOT new.channel BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE status = old.status AND channel = old.channel;
    INSERT INTO ticket_counts(status, channel, n) VALUES (new.status, new.channel, 1)
    ON CONFLICT(status, channel) DO UPDATE SET n = n + 1;
END;

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    external_id   TEXT NOT NULL,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out', 'note')),
    sender_name   TEXT NOT NULL DEFAULT '',
    sender_addr   TEXT NOT NULL DEFAULT '',
    sent_at       INTEGER NOT NULL,
    subject       TEXT NOT NULL DEFAULT '',
    body_text     TEXT NOT NULL DEFAULT '',
    body_quoted   TEXT NOT NULL DEFAULT '',
    parse_warning TEXT,
    UNIQUE (account_id, external_id)
);
CREATE INDEX messages_ticket ON messages(ticket_id, sent_at, id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    ordinal      INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB,
    UNIQUE (message_id, ordinal)
);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    subject, body_text, sender_name, sender_addr,
    content='messages', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2',
    prefix='2 3'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, subject, body_text, sender_name, sender_addr)
    VALUES (new.id, new.subject, new.body_text, new.sender_name, new.sender_addr);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, subject, body_text, sender_name, sender_addr)
    VALUES ('delete', old.id, old.subject, old.body_text, old.sender_name, old.sender_addr);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body_text, sender_name, sender_addr
ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, subject, body_text, sender_name, sender_addr)
    VALUES ('delete', old.id, old.subject, old.body_text, old.sender_name, old.sender_addr);
    INSERT INTO messages_fts(rowid, subject, body_text, sender_name, sender_addr)
    VALUES (new.id, new.subject, new.body_text, new.sender_name, new.sender_addr);
END;

CREATE TABLE sync_state (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    stream     TEXT NOT NULL,
    cursor     TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, stream)
);

CREATE TABLE source_status (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id),
    state         TEXT NOT NULL DEFAULT 'idle',
    last_success  INTEGER,
    last_error    TEXT,
    last_error_at INTEGER,
    backlog       INTEGER,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    message_id      TEXT NOT NULL UNIQUE,
    body_text       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '{}'
);
"""

# v2: one customer across channels, and the order context beside every ticket.
_V2 = """
ALTER TABLE orders ADD COLUMN buyer_email TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN buyer_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN name_postcode TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN delivery_from INTEGER;
ALTER TABLE orders ADD COLUMN delivery_to INTEGER;
ALTER TABLE orders ADD COLUMN identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL;
CREATE INDEX orders_name_postcode ON orders(name_postcode) WHERE name_postcode <> '';
CREATE INDEX orders_buyer_email ON orders(buyer_email) WHERE buyer_email <> '';
CREATE INDEX orders_buyer_phone ON orders(buyer_phone) WHERE buyer_phone <> '';

ALTER TABLE tickets ADD COLUMN identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL;

ALTER TABLE customers ADD COLUMN merged_into INTEGER REFERENCES customers(id) ON DELETE SET NULL;

CREATE TABLE shipment_events (
    id          INTEGER PRIMARY KEY,
    shipment_id INTEGER NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    status      TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    location    TEXT NOT NULL DEFAULT '',
    UNIQUE (shipment_id, at, status)
);

CREATE TABLE returns (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (order_id, external_id)
);

CREATE TABLE refunds (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (order_id, external_id)
);

CREATE TABLE cancellations (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    requested_at INTEGER NOT NULL,
    UNIQUE (order_id, external_id)
);

-- A merge moves the identities of `merged` to `kept`; tickets and orders follow their
-- identity, so undoing it moves back exactly what came through those identities.
CREATE TABLE customer_merges (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    kept        INTEGER NOT NULL REFERENCES customers(id),
    merged      INTEGER NOT NULL REFERENCES customers(id),
    rule        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    identities  TEXT NOT NULL,
    undone_at   INTEGER
);
CREATE INDEX customer_merges_kept ON customer_merges(kept);
CREATE INDEX customer_merges_merged ON customer_merges(merged);

CREATE TABLE merge_suggestions (
    id         INTEGER PRIMARY KEY,
    customer_a INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    customer_b INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    rule       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    created_at INTEGER NOT NULL,
    UNIQUE (customer_a, customer_b, rule)
);
CREATE INDEX merge_suggestions_b ON merge_suggestions(customer_b);

CREATE TABLE order_link_suggestions (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    order_id   INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    reference  TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    UNIQUE (ticket_id, order_id)
);
"""

# v3: GDPR. Legal holds on orders, remembered erasures, the salt for their hashes.
_V3 = """
ALTER TABLE orders ADD COLUMN restricted_reason TEXT;
ALTER TABLE orders ADD COLUMN delete_after INTEGER;
CREATE INDEX orders_restricted ON orders(delete_after) WHERE restricted_reason IS NOT NULL;

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO store_meta(key, value) VALUES ('identity_salt', lower(hex(randomblob(32))));

-- An erased identity, as a salted hash only: a sync skips what it sent before erased_at.
CREATE TABLE erased_identities (
    hash      TEXT PRIMARY KEY,
    erased_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Exports made for a data-subject request; erasing the person deletes these files too.
CREATE TABLE exports (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    customers TEXT NOT NULL,
    path      TEXT NOT NULL,
    sha256    TEXT NOT NULL
);

-- Data-subject requests (Art. 15-21) and what the sync noticed in buyer messages.
CREATE TABLE gdpr_requests (
    id                    INTEGER PRIMARY KEY,
    kind                  TEXT NOT NULL CHECK (kind IN ('access', 'portability', 'erasure', 'rectification',
                                                        'objection')),
    customer_id           INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    ticket_id             INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    received_at           INTEGER NOT NULL,
    due_at                INTEGER NOT NULL,
    extension_reason      TEXT,
    verification          TEXT NOT NULL DEFAULT 'pending' CHECK (verification IN ('pending', 'verified', 'failed')),
    verification_evidence TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'rejected')),
    closed_at             INTEGER
);
CREATE INDEX gdpr_requests_open ON gdpr_requests(status, due_at);

CREATE TABLE gdpr_flags (
    ticket_id  INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    phrase     TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'registered', 'dismissed'))
);
CREATE INDEX gdpr_flags_open ON gdpr_flags(status);

-- Consent for processing that needs it (feedback requests, marketing): what was agreed to,
-- in which wording and version, where, when, with what evidence, and its withdrawal.
CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,
    text         TEXT NOT NULL,
    version      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    given_at     INTEGER NOT NULL,
    evidence     TEXT NOT NULL DEFAULT '',
    withdrawn_at INTEGER
);
CREATE INDEX consents_customer ON consents(customer_id, purpose);

-- Correspondence about an order that must be kept as a commercial letter (HGB §257) after
-- the person asked for erasure: outside the messages table, so outside search and views.
CREATE TABLE held_messages (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER REFERENCES orders(id) ON DELETE SET NULL,
    channel       TEXT NOT NULL,
    direction     TEXT NOT NULL,
    sender_name   TEXT NOT NULL,
    sender_addr   TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    subject       TEXT NOT NULL,
    body_text     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    delete_after  INTEGER NOT NULL
);
CREATE INDEX held_messages_expiry ON held_messages(delete_after);

-- Receipts of erasures: counts and held records, never the erased data itself.
CREATE TABLE erasures (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    receipt TEXT NOT NULL
);
"""

# v4: the e-mail channel. Conversation keys (Message-IDs, references, relay keys) map mails
# to tickets across syncs; locations say where each mail sits on the server; the outbox
# keeps the exact bytes of each reply so every retry sends the same message.
_V4 = """
CREATE TABLE mail_keys (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    key        TEXT NOT NULL,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX mail_keys_ticket ON mail_keys(ticket_id);

CREATE TABLE mail_locations (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    folder      TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    flags       TEXT NOT NULL DEFAULT '',
    partial     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, folder, uidvalidity, uid)
) WITHOUT ROWID;
CREATE INDEX mail_locations_message ON mail_locations(message_id);

ALTER TABLE messages ADD COLUMN raw_sha256 TEXT;

ALTER TABLE outbox ADD COLUMN from_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN to_addrs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE outbox ADD COLUMN raw BLOB;
ALTER TABLE outbox ADD COLUMN refused TEXT;
ALTER TABLE outbox ADD COLUMN server_reply TEXT;
ALTER TABLE outbox ADD COLUMN sent_copy_at INTEGER;
ALTER TABLE outbox ADD COLUMN message_row INTEGER REFERENCES messages(id) ON DELETE SET NULL;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
"""


def statements(script: str) -> list[str]:
    """Split a script into complete statements (executescript would COMMIT an open transaction)."""
    result, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                result.append(current.strip())
            current = ""
    return result


def _v3(conn: sqlite3.Connection) -> None:
    from deskterm.store.audit import migrate_v3_audit_chain

    for statement in statements(_V3):
        conn.execute(statement)
    migrate_v3_audit_chain(conn)

Migration = str | Callable[[sqlite3.Connection], None]
# v5: the thread view shows each reply's delivery state (outbox row by message row).
_V5 = """
CREATE INDEX outbox_message_row ON outbox(message_row) WHERE message_row IS NOT NULL;
"""

# v6: replying. One draft per ticket and kind (reply or internal note), saved as the agent
# types, so a crash or restart loses nothing.
_V6 = """
CREATE TABLE drafts (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('reply', 'note')),
    body       TEXT NOT NULL,
    template   TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, kind)
) WITHOUT ROWID;
ALTER TABLE outbox ADD COLUMN set_status TEXT;
"""

# v7: response clocks. `awaiting_since` is the first customer message not yet answered by a
# sent reply (NULL: nothing to answer); notes and queued replies do not stop the clock.
# Tags on tickets (a template's tags are applied when its reply is sent).
_V7 = """
CREATE TABLE ticket_tags (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
) WITHOUT ROWID;
CREATE INDEX ticket_tags_tag ON ticket_tags(tag, ticket_id);
ALTER TABLE outbox ADD COLUMN set_tags TEXT;
ALTER TABLE tickets ADD COLUMN awaiting_since INTEGER;
ALTER TABLE tickets ADD COLUMN no_response_needed TEXT;
UPDATE tickets SET awaiting_since = (
    SELECT min(m.sent_at) FROM messages m WHERE m.ticket_id = tickets.id AND m.direction = 'in'
      AND m.sent_at > coalesce((SELECT max(o.sent_at) FROM messages o
                                WHERE o.ticket_id = tickets.id AND o.direction = 'out'), 0));
"""

# v8: the app asks every two seconds whether sent mail still needs its copy in Sent.
_V8 = """
CREATE INDEX outbox_copy_due ON outbox(id) WHERE status = 'sent' AND sent_copy_at IS NULL AND raw IS NOT NULL;
"""

# v9: the deadline of each running response clock, stored and indexed so the inbox can sort
# by it and count what is overdue (store/awaiting.py keeps it; computed here for old rows).
def _v9(conn: sqlite3.Connection) -> None:
    from deskterm.store.awaiting import recompute_due

    conn.execute("ALTER TABLE tickets ADD COLUMN sla_due_at INTEGER")
    conn.execute("CREATE INDEX tickets_due ON tickets(sla_due_at, id) WHERE sla_due_at IS NOT NULL")
    recompute_due(conn)


# v10: triage. Assignment (agent and queue), priority, snooze with its wake-up time, intent
# (set by assisted triage), when a ticket was resolved (reports), paused response time,
# the agent who wrote a reply, an undo journal for triage actions, and presence (who has a
# ticket open or is replying, seen_at refreshed while they do).
_V10 = """
ALTER TABLE tickets ADD COLUMN assignee TEXT;
ALTER TABLE tickets ADD COLUMN queue TEXT;
ALTER TABLE tickets ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN snoozed_until INTEGER;
ALTER TABLE tickets ADD COLUMN intent TEXT;
ALTER TABLE tickets ADD COLUMN resolved_at INTEGER;
ALTER TABLE tickets ADD COLUMN sla_paused_at INTEGER;
ALTER TABLE tickets ADD COLUMN sla_paused_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN agent TEXT;
CREATE INDEX tickets_snoozed ON tickets(snoozed_until, id) WHERE snoozed_until IS NOT NULL;
CREATE INDEX tickets_assignee ON tickets(assignee, last_message_at) WHERE assignee IS NOT NULL;
CREATE INDEX tickets_inbox_rest ON tickets(last_message_at DESC, id DESC)
    WHERE status IN ('open', 'pending') AND sla_due_at IS NULL;
CREATE INDEX tickets_resolved_at ON tickets(resolved_at) WHERE resolved_at IS NOT NULL;
CREATE TABLE triage_actions (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    agent     TEXT NOT NULL,
    label     TEXT NOT NULL,
    before    TEXT NOT NULL,          -- JSON: each ticket's fields and tags before the action
    undone_at INTEGER
);
CREATE TABLE presence (
    agent     TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    activity  TEXT NOT NULL CHECK (activity IN ('viewing', 'replying')),
    since     INTEGER NOT NULL,
    seen_at   INTEGER NOT NULL,
    PRIMARY KEY (agent, ticket_id)
) WITHOUT ROWID;
CREATE INDEX presence_ticket ON presence(ticket_id);
UPDATE tickets SET resolved_at = last_message_at WHERE status = 'resolved';
"""

# v11: actions that a channel must also see (a Kaufland ticket resolved here is closed at
# Kaufland), queued with the local change and delivered like replies, once.
_V11 = """
CREATE TABLE channel_actions (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    action      TEXT NOT NULL CHECK (action IN ('close')),
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    done_at     INTEGER
);
CREATE INDEX channel_actions_queued ON channel_actions(id) WHERE status = 'queued';
"""

# v12: carrier tracking. When a shipment was last asked about, and what the carrier said
# when it could not answer (unknown number); shipments still on their way, polled oldest first.
_V12 = """
ALTER TABLE shipments ADD COLUMN tracked_at INTEGER;
ALTER TABLE shipments ADD COLUMN tracking_state TEXT;
ALTER TABLE shipments ADD COLUMN estimated_delivery INTEGER;
CREATE INDEX shipments_track_due ON shipments(tracked_at, id) WHERE carrier = 'DHL' AND status <> 'delivered';
"""

# v13: Meta webhook deliveries, one row per message id (Meta delivers again on timeouts);
# no text and no sender: the message itself comes by the Graph poll the delivery triggers.
_V13 = """
CREATE TABLE webhook_events (
    mid         TEXT PRIMARY KEY,
    account_key TEXT NOT NULL,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
"""

# v14: assisted triage. What the classifier read in each ticket's newest buyer message (intent,
# language, urgency, whether it needs an answer, the cues that decided), a queue of tickets
# with buyer messages not classified yet (filled in the sync's transaction, so a crash
# loses none), who set a ticket's intent (the agent's label wins and trains the model), and
# replies sent by an assist policy (`auto`): they never stop a response clock.
_V14 = """
CREATE TABLE ticket_assist (
    ticket_id     INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    message_id    INTEGER NOT NULL,
    intent        TEXT NOT NULL,
    secondary     TEXT,
    language      TEXT NOT NULL,
    urgency       INTEGER NOT NULL,
    needs_answer  INTEGER NOT NULL,
    cues          TEXT NOT NULL,           -- JSON: [[cue, weight], ...] (rule words or n-grams)
    model         TEXT NOT NULL,
    confidence    REAL NOT NULL,
    classified_at INTEGER NOT NULL,
    route         TEXT,                    -- the routing rules that applied, once per ticket
    drafted_for   INTEGER,                 -- the buyer message an assist draft or auto-reply answered
    draft_note    TEXT                     -- what the assist did about a draft, or why not
);
CREATE TABLE assist_queue (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE
) WITHOUT ROWID;
ALTER TABLE tickets ADD COLUMN intent_source TEXT;
ALTER TABLE messages ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_intent ON tickets(intent, last_message_at) WHERE intent IS NOT NULL;
INSERT OR IGNORE INTO assist_queue(ticket_id)
    SELECT id FROM tickets WHERE status <> 'resolved' AND last_customer_message_at IS NOT NULL;
"""

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _v3, _V4, _V5, _V6, _V7, _V8, _v9, _V10, _V11, _V12, _V13, _V14)
SCHEMA_VERSION = len(MIGRATIONS)
