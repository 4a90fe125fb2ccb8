"""Templates and channel rules without the UI: every starter renders, gaps are named,
unsafe access is refused, salutations never guess, rules are data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from deskterm.cli import main
from deskterm.domain.reply_rules import RulesError, check_reply, load_rules
from deskterm.domain.templates import (
    TemplateRejected,
    load_templates,
    match_templates,
    parse_template,
    render,
    salutations,
    tracking_url,
)

FULL = {
    "customer": {"name": "Anna Schneider", "salutation": "Sehr geehrte Frau Schneider", "greeting_du": "Hallo Anna",
                 "greeting_en": "Dear Ms Schneider"},
    "ticket": {"subject": "Frage", "channel": "Amazon", "received": "01.12.2026"},
    "agent": {"name": "Jana"}, "shop": {"name": "Lindenhof"},
    "order": {"number": "302-1234567-1234567", "placed_at": "28.11.2026", "total": "49,90 €", "status": "shipped",
              "items": [{"title": "Topf", "quantity": 1, "sku": "T1", "price": "49,90 €"}]},
    "shipment": {"carrier": "DHL", "tracking_number": "0034", "tracking_url": "https://dhl/0034", "status": "transit",
                 "status_text": "unterwegs", "latest_event": "Die Sendung wurde im Start-Paketzentrum bearbeitet.",
                 "latest_place": "Kassel", "latest_at": "03.12.2026", "expected": "05.12.2026"},
    "channel": {"name": "Amazon", "return_instructions": "Bitte melden Sie die Rücksendung in Ihrem Amazon-Konto an.",
                "links_allowed": True},
    "refund": {"amount": "49,90 €", "status": "done", "date": "02.12.2026"},
}


def test_every_starter_template_renders_completely_in_every_language() -> None:
    templates, problems = load_templates()
    assert problems == [] and len(templates) >= 9
    for template in templates:
        assert set(template.variants) >= {"de", "en"}, template.key
        for language, body in template.variants.items():
            rendered = render(body, FULL)
            assert rendered.complete, (template.key, language, rendered.gaps)
            assert "None" not in rendered.text and "{{" not in rendered.text


def test_missing_values_are_named_gaps_never_none() -> None:
    rendered = render("{{ order.number }} {{ shipment.tracking_number }} {{ order.items[2].title }}",
                      {"order": {"number": "1", "items": []}, "shipment": {"tracking_number": None}})
    assert rendered.text == "1 ⟦shipment.tracking_number fehlt⟧ ⟦order.items[2].title fehlt⟧"
    assert rendered.gaps == ["shipment.tracking_number", "order.items[2].title"]


@pytest.mark.parametrize("body", ["{{ ''.__class__.__mro__ }}", "{{ order.__class__ }}", "{{ order._data }}",
                                  "{{ cycler.__init__.__globals__ }}", "{{ lipsum.__globals__ }}"])
def test_attribute_tricks_are_refused_with_a_message(body: str) -> None:
    with pytest.raises(TemplateRejected, match="Vorlage abgelehnt: access to '_"):
        render(body, FULL)


def test_broken_template_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "kaputt.toml").write_text("name = 'x'\n")
    (tmp_path / "wo-ist-meine-bestellung.toml").write_text(
        'name = "Eigene Version"\nshortcut = "wo"\n[variants.de]\nbody = "Hallo {{ customer.name }}"\n')
    templates, problems = load_templates(tmp_path)
    assert len(problems) == 1 and "kaputt.toml" in problems[0] and "variants" in problems[0]
    own = next(t for t in templates if t.key == "wo-ist-meine-bestellung")
    assert own.name == "Eigene Version"  # the user's file replaces the starter
    with pytest.raises(TemplateRejected, match="status"):
        parse_template("x", 'status = "weg"\n[variants.de]\nbody = "x"\n')


def test_matching_prefers_the_exact_shortcut_and_respects_channels() -> None:
    templates = [parse_template("a", 'name = "Rechnung"\nshortcut = "re"\n[variants.de]\nbody = "x"\n'),
                 parse_template("b", 'name = "Rücksendung"\nshortcut = "rs"\n[variants.de]\nbody = "x"\n'),
                 parse_template("c", 'name = "Nur eBay"\nshortcut = "eb"\nchannels = ["ebay"]\n'
                                     '[variants.de]\nbody = "x"\n')]
    assert [t.key for t in match_templates(templates, "re", "amazon")][0] == "a"
    assert [t.key for t in match_templates(templates, "r", "amazon")] == ["a", "b"]
    assert match_templates(templates, "eb", "amazon") == []


def test_salutations_use_the_title_and_never_guess() -> None:
    assert salutations("Anna Schneider", "Frau")["de"] == "Sehr geehrte Frau Schneider"
    assert salutations("Max Weber", "Herr")["de"] == "Sehr geehrter Herr Weber"
    assert salutations("Alex Schmidt")["de"] == "Guten Tag Alex Schmidt"
    assert salutations("")["de"] == "Guten Tag"
    assert tracking_url("DHL", "0034") .endswith("piececode=0034") and tracking_url("Unbekannt", "1") == ""


def test_channel_rules_are_data_and_explain_themselves(tmp_path: Path) -> None:
    rules = load_rules()
    assert check_reply(rules, "ebay", "Schreiben Sie an info@shop.de") == [
        "eBay: keine E-Mail-Adressen erlaubt (info@shop.de)"]
    assert check_reply(rules, "amazon", "Ich bin bis Montag abwesend.") == [
        "Amazon: Amazon lässt keine Abwesenheits- oder automatischen Antworten zu („abwesend“)"]
    assert check_reply(rules, "ebay", "x" * 2001)[0].startswith("eBay: höchstens 2000 Zeichen")
    assert check_reply(rules, "email", "https://example.org") == []
    override = tmp_path / "reply_rules.toml"
    override.write_text("[email]\nforbid_urls = true\n")
    assert check_reply(load_rules(override), "email", "https://example.org") == [
        "E-Mail: keine Links erlaubt (https://example.org)"]
    override.write_text("[email]\nforbid_patterns = ['(']\n")
    with pytest.raises(RulesError, match="forbid_patterns"):
        load_rules(override)


def test_cli_reply_note_and_templates(demo_store: Path, isolated_home, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(demo_store)
    amazon, email = (conn.execute(f"SELECT id FROM tickets WHERE channel = '{c}' AND order_id IS NOT NULL "
                                  "ORDER BY id LIMIT 1").fetchone()[0] for c in ("amazon", "email"))
    conn.close()
    args = ["--store", str(demo_store)]
    assert main([*args, "reply", str(amazon), "--text", "Siehe https://example.org"]) == 2
    assert "not sent: Amazon: keine Links erlaubt" in capsys.readouterr().err
    assert main([*args, "templates", "show", "wo", "--ticket", str(email)]) == 0
    assert "Bestellung LH-" in capsys.readouterr().out
    assert main([*args, "reply", str(email), "--template", "wo"]) == 0
    assert "queued reply" in capsys.readouterr().out
    assert main([*args, "note", str(email), "--text", "Kunde ruft morgen an"]) == 0
    assert main([*args, "outbox", "send"]) == 0
    assert "sent 1" in capsys.readouterr().out
    conn = sqlite3.connect(demo_store)
    assert conn.execute("SELECT direction FROM messages WHERE ticket_id = ? ORDER BY id DESC LIMIT 2",
                        (email,)).fetchall() == [("note",), ("out",)]
