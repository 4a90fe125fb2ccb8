"""Hostile buyer text through the inbox and ticket screens: shown literally, never obeyed.

The frame each screen would write to the terminal is rendered exactly as Textual's driver
would receive it (the compositor's full update), and checked byte by byte.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.segment import Segment

from deskterm.cli import build_app
from deskterm.config import Config
from deskterm.model import Batch, Channel, CustomerRecord, Direction, IdentityRef, MessageRecord, TicketRecord
from deskterm.screens.ticket import TicketScreen
from deskterm.store.db import Store
from deskterm.store.sync_writes import apply_batch, ensure_account
from tests.conftest import ANCHOR, FROZEN_NOW

MARKUP = ["[bold]x[/]", "[/", "[URGENT]", "[link=https://evil.example]Amazon[/link]", "[@click=app.quit]x[/]"]
ESCAPES = {
    "csi_clear": "\x1b[2J",
    "osc8_st": "\x1b]8;;https://evil.example\x1b\\Amazon\x1b]8;;\x1b\\",
    "osc8_bel": "\x1b]8;;https://evil.example\x07Amazon\x1b]8;;\x07",
    "osc52": "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07",
    "osc0_title": "\x1b]0;you have been pwned\x07",
    "dcs": "\x1bP1$qm\x1b\\",
    "apc": "\x1b_secret\x1b\\",
    "reset": "\x1bc",
    "dsr": "\x1b[6n",
    "c1_csi": "\x9b31m",
    "c1_osc": "\x9d0;c1 title\x9c",
    "c1_dcs": "\x90q\x9c",
    "controls": "\x00\x07\x08\x7f",
    "unterminated_osc": "\x1b]8;;https://swallow.example",
}
INVISIBLE = {"\u202e": "U+202E", "\u2066": "U+2066", "\u200b": "U+200B", "\u200d": "U+200D", "\ufeff": "U+FEFF"}
PAYLOAD = " ".join(MARKUP) + " " + " ".join(ESCAPES.values()) + " invoice\u202efdp.exe " + "".join(INVISIBLE)

FORBIDDEN_IN_FRAME = ["\x1b]", "\x1bP", "\x1b_", "\x1bc", "\x1b[2J", "\x1b[6n", "\x07", "\x00", "\x08", "\x7f",
                      *INVISIBLE]


def _hostile_store(path: Path) -> int:
    buyer = IdentityRef("email", "evil@example.test")
    ticket = TicketRecord("t-evil", Channel.EMAIL, buyer, "Betreff " + PAYLOAD, ANCHOR, order_ref="302-" + PAYLOAD)
    # A second, older ticket whose visible columns start with escapes rather than markup.
    escapes_first = "".join(ESCAPES.values()) + "".join(INVISIBLE)
    ticket2 = TicketRecord("t-esc", Channel.AMAZON, buyer, escapes_first, ANCHOR - timedelta(hours=1),
                           order_ref=escapes_first)
    message = MessageRecord("m-evil", "t-evil", Direction.IN, "Name " + PAYLOAD, "evil\x1b[2J@example.test",
                            ANCHOR + timedelta(minutes=2), "Subj " + PAYLOAD, "Body " + PAYLOAD,
                            body_quoted="> quoted " + PAYLOAD, parse_warning="warn " + PAYLOAD)
    with Store.open(path) as store:
        account = ensure_account(store, "mail", "email", "Mail " + PAYLOAD, now=int(ANCHOR.timestamp()))
        apply_batch(store, account, "inbox", Batch(cursor="1", customers=[CustomerRecord(buyer, "Kunde " + PAYLOAD)],
                                                  tickets=[ticket, ticket2], messages=[message]),
                    now=int(ANCHOR.timestamp()))
        return int(store.conn.execute("SELECT id FROM tickets WHERE external_id = 't-evil'").fetchone()[0])


def _frame(app) -> tuple[str, list[Segment]]:  # type: ignore[no-untyped-def]
    """The bytes a full repaint writes to the terminal, and the segments they came from."""
    update = app.screen._compositor.render_full_update()
    segments = [segment for line in update.strips for strip in line for segment in strip]
    return update.render_segments(app.console), segments


def _assert_safe(app, *, expect_literal: list[str]) -> None:  # type: ignore[no-untyped-def]
    data, segments = _frame(app)
    for needle in FORBIDDEN_IN_FRAME:
        assert needle not in data, f"{needle!r} reached the terminal"
    assert not any(0x80 <= ord(ch) <= 0x9F for ch in data), "an 8-bit C1 control reached the terminal"
    for segment in segments:
        style = segment.style
        if style is not None:
            assert not style.link, f"a link was created: {style.link!r}"
            assert "@click" not in (style.meta or {}), "a clickable action was created"
    text = "".join(segment.text for segment in segments)
    for literal in expect_literal:
        assert literal in text, f"{literal!r} is not shown literally"


@pytest.mark.parametrize("size", [(160, 48), (90, 30)])
async def test_hostile_text_is_shown_literally_and_never_obeyed(tmp_path: Path, isolated_home, size) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "evil.sqlite3"
    _hostile_store(path)
    store = Store.open(path, create=False)
    app = build_app(store=store, profile="evil", config=Config(), where=isolated_home, clock=lambda: FROZEN_NOW)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        _assert_safe(app, expect_literal=["[bold]x[/]", "[URGENT]", "␛[2J␛]8;;"])
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        literals = ["[link=https://evil.example]Amazon[/link]", "[@click=app.quit]x[/]", "[/", "␛]52;c;",
                    "⟨U+009B⟩31m", "invoice⟨U+202E⟩fdp.exe", "⟨U+200B⟩", "␛]0;you", "pwned␇"]
        _assert_safe(app, expect_literal=literals)
        await pilot.press("z", "G")  # show the quoted history too, scroll to it
        await pilot.pause()
        _assert_safe(app, expect_literal=["> quoted [bold]x[/]"])
        await pilot.click(offset=(5, 5))  # clicking on the text must not trigger anything
        await pilot.pause()
        assert app.is_running and app.return_code is None
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, TicketScreen)
        assert app.is_running
    store.close()
