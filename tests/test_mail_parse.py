"""Mail parsing and threading against real corpora (../shared/corpora) and our own tricky set."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from deskterm.sources.mail.parse import parse_message, split_quoted
from deskterm.sources.mail.threading import normalize_subject, thread_groups
from tests.mail_corpus import all_messages, count

MAX_SECONDS = 1.0


def _timed(raw: bytes):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    parsed = parse_message(raw)
    return parsed, time.perf_counter() - start


def _has_content(raw: bytes) -> bool:
    """Independent reference: does any leaf part hold non-blank bytes, as the stdlib sees it?"""
    import email
    from email.policy import compat32

    try:
        message = email.message_from_bytes(raw, policy=compat32)
        return any(not part.is_multipart() and (part.get_payload(decode=True) or b"").strip()
                   for part in message.walk())
    except Exception:
        return True


def test_every_malformed_corpus_message_parses_or_is_kept_with_a_warning(shared_dir: Path) -> None:
    files = sorted((shared_dir / "corpora" / "malformed").glob("*.eml"))
    assert len(files) == 300
    for path in files:
        raw = path.read_bytes()
        parsed, seconds = _timed(raw)
        assert seconds < MAX_SECONDS, f"{path.name} took {seconds:.2f} s"
        assert parsed.message_id and parsed.size == len(raw)
        if _has_content(raw):  # content the stdlib can see is kept, or we say why not
            assert parsed.body_text or parsed.body_quoted or parsed.attachments or parsed.parse_warning, path.name


def test_subjects_and_message_ids_match_the_stalwart_expected_parses(shared_dir: Path) -> None:
    checked = 0
    for expected_file in sorted((shared_dir / "corpora" / "malformed").glob("stalwart-*.json")):
        if expected_file.name.endswith(".crlf.json"):
            continue
        headers: dict[str, object] = {}
        for header in json.loads(expected_file.read_text())["parts"][0]["headers"]:
            if isinstance(header.get("name"), str):
                headers.setdefault(header["name"], header["value"])
        eml = expected_file.with_suffix(".eml").read_bytes().replace(b"\r", b"")  # as Stalwart's tests feed it
        parsed = parse_message(eml)
        for field, ours in (("subject", parsed.subject), ("message_id", parsed.message_id)):
            value = headers.get(field)
            if not (isinstance(value, dict) and "Text" in value):
                continue
            expected = " ".join(value["Text"].split())
            if field == "message_id":
                expected = "".join(expected.split())
            checked += 1
            if "\ufffd" in expected:  # Stalwart gave up on a byte we decode (Windows-1252): same length and shape
                assert len(ours) == len(expected) and all(a == b for a, b in zip(ours, expected) if b != "\ufffd")
            else:
                assert ours == expected, f"{expected_file.name}: {field}"
    assert checked >= 140


@pytest.mark.parametrize("set_name", ["notmuch-default", "notmuch-lkml", "notmuch-loop", "notmuch-threading",
                                      "rfc2822-a2"])
def test_threading_sets_group_exactly_as_expected(shared_dir: Path, set_name: str) -> None:
    base = shared_dir / "corpora" / "threading"
    expected = json.loads((base / f"{set_name}.threads.json").read_text())
    expected_groups = sorted(sorted(f for m in t["messages"] for f in m["files"]) for t in expected["threads"])
    mails, files = [], {}
    for path in sorted(p for p in (base / set_name).rglob("*") if p.is_file()):
        parsed, seconds = _timed(path.read_bytes())
        assert seconds < MAX_SECONDS
        mails.append(parsed)
        files.setdefault(parsed.message_id, []).append(str(path.relative_to(base / set_name)))
    groups = thread_groups(mails)
    assert sorted(sorted(f for message_id in g for f in files[message_id]) for g in groups) == expected_groups


def test_our_tricky_corpus_never_crashes_or_stalls() -> None:
    assert count() >= 100
    for name, raw in all_messages():
        parsed, seconds = _timed(raw)
        assert seconds < MAX_SECONDS, f"{name} took {seconds:.2f} s"
        assert parsed.message_id, name


def _case(name: str):  # type: ignore[no-untyped-def]
    return parse_message(dict(all_messages())[name])


def test_specific_tricky_cases() -> None:
    assert "Größe" in _case("charset-utf-8-latin-1").body_text
    assert "falsch angegeben" in (_case("charset-utf-8-latin-1").parse_warning or "")
    assert [a.filename for a in _case("filename-0").attachments] == ["Rechnung März.pdf"]
    assert [a.filename for a in _case("filename-1").attachments] == ["Rechnung.pdf"]
    assert _case("encoded-word-1").subject == "Grüße aus Köln"
    assert _case("encoded-word-7").subject == "Frösche"
    deep = _case("nesting-2000")
    assert "tiefer als" in (deep.parse_warning or "")
    assert "gekürzt" in (_case("semicolons-200000").parse_warning or "") and _case("semicolons-200000").body_text == "ok"
    html = _case("html-only-remote")
    assert html.body_text == "Hallo" and "tracker" not in html.body_text and "fetch" not in html.body_text
    skipped = _case("header-space-before-colon")
    assert "ungültige Kopfzeile" in (skipped.parse_warning or "") and skipped.from_addr == "erika@example.test"
    assert _case("mbox-from-line").subject == "mbox"
    attachment = _case("filename-0").attachments[0]
    assert attachment.size == len(attachment.data or b"") and len(attachment.sha256) == 64


def test_missing_message_ids_get_a_stable_content_id_and_loops_terminate() -> None:
    first, again = _case("ids-0"), _case("ids-0")
    assert first.message_id == again.message_id and first.message_id.endswith("@deskterm.invalid")
    assert _case("ids-1").message_id.endswith("@deskterm.invalid")  # an empty Message-ID header
    assert _case("ids-1").message_id != _case("ids-2").message_id  # different messages, different ids
    loop = [_case("ids-7"), _case("ids-8"), _case("ids-9")]
    groups = thread_groups(loop)
    assert sorted(map(sorted, groups)) == [["loop-1@x", "loop-2@x"], ["self@x"]]
    duplicates = thread_groups([_case("ids-5"), _case("ids-6")])
    assert groups and duplicates == [["dup@example.test"]]


@pytest.mark.parametrize("name", [f"quote-{i}" for i in range(6)])
def test_quoted_history_is_split_from_the_new_text(name: str) -> None:
    parsed = _case(name)
    assert parsed.body_text == "Neue Antwort." and parsed.body_quoted


def test_subject_fallback_joins_replies_without_references_only() -> None:
    root = parse_message(b"Message-ID: <r@x>\nSubject: Retoure 302-1234567-1234567\nDate: Thu, 03 Dec 2026 10:00:00 +0100\n\nx")
    reply = parse_message(b"Message-ID: <a@x>\nSubject: AW: Retoure 302-1234567-1234567\n"
                          b"Date: Fri, 04 Dec 2026 10:00:00 +0100\n\ny")
    other = parse_message(b"Message-ID: <b@x>\nSubject: Retoure 302-1234567-1234567\nDate: Fri, 04 Dec 2026 11:00:00 +0100\n\nz")
    assert sorted(map(sorted, thread_groups([root, reply, other]))) == [["a@x", "r@x"], ["b@x"]]
    assert normalize_subject("AW: WG: Re: [Important] Fwd: Paket") == "paket"
    assert split_quoted("Danke!\n\n> alt\n> älter") == ("Danke!", "> alt\n> älter")
