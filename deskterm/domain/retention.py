"""What German law makes a seller keep after an erasure request, and for how long.

Accounting records (invoices, credit notes: HGB §257, AO §147) must be kept 8 years,
counted from the end of the calendar year they were made in. An order that was paid,
shipped or refunded is such a record; it is restricted instead of deleted. The number of
years is configurable (config `[gdpr] invoice_retention_years`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

INVOICE_RELEVANT_PAYMENT = frozenset({"paid", "refunded", "partially_refunded", "captured"})
INVOICE_RELEVANT_STATUS = frozenset({"shipped", "delivered", "returned"})
HOLD_REASON = "Aufbewahrungspflicht Buchungsbeleg (HGB §257, AO §147)"
LETTER_REASON = "Aufbewahrungspflicht Handelsbrief (HGB §257 Abs. 1 Nr. 2, 3)"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    invoice_years: int = 8
    # Resolved conversations are deleted this many years after their last message (0: kept).
    ticket_years: int = 6
    # Correspondence about an order kept as a commercial letter after an erasure request
    # (HGB §257: 6 years). 0: the seller does not treat buyer messages as commercial letters.
    letter_years: int = 0

    def letter_hold(self, sent_at: int) -> tuple[str, int] | None:
        if not self.letter_years:
            return None
        year = datetime.fromtimestamp(sent_at, timezone.utc).year
        return LETTER_REASON, int(datetime(year + 1 + self.letter_years, 1, 1, tzinfo=timezone.utc).timestamp())

    def hold(self, *, status: str, payment_status: str, placed_at: int) -> tuple[str, int] | None:
        """(reason, delete-after epoch) when the order must be kept, else None."""
        if payment_status not in INVOICE_RELEVANT_PAYMENT and status not in INVOICE_RELEVANT_STATUS:
            return None
        year = datetime.fromtimestamp(placed_at, timezone.utc).year
        delete_after = datetime(year + 1 + self.invoice_years, 1, 1, tzinfo=timezone.utc)
        return HOLD_REASON, int(delete_after.timestamp())
