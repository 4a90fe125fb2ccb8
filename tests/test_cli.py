"""The command line: help, demo, sync, search, doctor, paths, config, logs without secrets."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from deskterm.logs import redact, setup_logging


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deskterm", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_subcommand() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("demo", "sync", "search", "doctor", "paths", "config"):
        assert command in result.stdout


def test_demo_sync_search_and_doctor_end_to_end(isolated_home) -> None:  # type: ignore[no-untyped-def]
    demo = _run("demo", "--no-open")
    assert demo.returncode == 0, demo.stderr
    assert "synced 11 sources" in demo.stderr and "0 failed" in demo.stderr
    again = _run("sync")
    assert again.returncode == 0 and "0 new or changed messages" in again.stderr
    found = _run("search", "rechnung")
    assert found.returncode == 0 and len(found.stdout.splitlines()) > 3
    assert all(line.split("\t")[0].isdigit() for line in found.stdout.splitlines())
    bad = _run("search", "AND")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    doctor = _run("doctor")
    assert doctor.returncode == 0, doctor.stdout
    assert "pragmas journal_mode=wal, synchronous=2" in doctor.stdout and "integrity ok" in doctor.stdout
    log_text = isolated_home.log_file.read_text()
    assert "synced amazon-de" in log_text
    assert "Guten Tag" not in log_text and "Bestellung" not in log_text, "message bodies never reach the log"


def test_doctor_reports_a_corrupt_store_and_what_to_do(isolated_home) -> None:  # type: ignore[no-untyped-def]
    path = isolated_home.store_path("shop")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x13not sqlite\x00" * 500)
    result = _run("doctor", "--profile", "shop")
    assert result.returncode == 1
    assert "✗ store:" in result.stdout and "corrupt" in result.stdout and "→" in result.stdout


def test_paths_and_config_init(isolated_home) -> None:  # type: ignore[no-untyped-def]
    paths = _run("paths")
    assert str(isolated_home.config_file) in paths.stdout
    assert _run("config", "init").returncode == 0 and isolated_home.config_file.exists()
    assert _run("config", "init").returncode == 2  # never overwrites
    assert _run("doctor").stdout.count("config:") == 1


def test_unknown_profile_is_one_line() -> None:
    result = _run("sync", "--profile", "nope")
    assert result.returncode == 2 and result.stderr.startswith("deskterm: no profile 'nope'")


def test_log_file_redacts_credentials(isolated_home) -> None:  # type: ignore[no-untyped-def]
    setup_logging(isolated_home.log_file)
    logging.getLogger("deskterm.test").warning(
        "refresh failed: refresh_token=Atzr|canary123 password: hunter2 Authorization: Bearer eyJcanary "
        "https://user:canarypw@imap.example.test/")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = isolated_home.log_file.read_text()
    assert "refresh failed" in text
    for secret in ("canary123", "hunter2", "eyJcanary", "canarypw"):
        assert secret not in text
    assert oct(isolated_home.log_file.stat().st_mode)[-3:] == "600"
    assert redact("nothing secret here") == "nothing secret here"


def test_customer_commands_mirror_the_ticket_screen(isolated_home) -> None:  # type: ignore[no-untyped-def]
    assert _run("demo", "--no-open").returncode == 0
    suggestions = _run("customer", "suggestions")
    assert suggestions.returncode == 0
    first = suggestions.stdout.splitlines()[0].split("\t")
    suggestion_id, customer_a = first[0], first[1]
    shown = _run("customer", "show", customer_a)
    assert shown.returncode == 0 and "identity" in shown.stdout and "*" in shown.stdout
    assert _run("customer", "accept", suggestion_id).returncode == 0
    merged = _run("customer", "show", customer_a)
    merge_line = next(line for line in merged.stdout.splitlines() if line.strip().startswith("merge "))
    assert "active" in merge_line and "gleicher Name und gleiche PLZ" in merge_line
    merge_id = merge_line.split()[1].rstrip(":")
    assert _run("customer", "unmerge", merge_id).returncode == 0
    assert "undone" in _run("customer", "show", customer_a).stdout
    again = _run("customer", "unmerge", merge_id)
    assert again.returncode == 2 and "already undone" in again.stderr
    revealed = _run("customer", "show", customer_a, "--reveal")
    assert revealed.returncode == 0
    import sqlite3

    conn = sqlite3.connect(isolated_home.store_path("demo"))
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE actor <> 'sync' ORDER BY id")]
    assert actions[:2] == ["customer.merge", "customer.unmerge"] and "order.address_revealed" in actions


def test_sync_watch_keeps_syncing_until_interrupted(isolated_home) -> None:  # type: ignore[no-untyped-def]
    import signal
    import time

    assert _run("demo", "--no-open").returncode == 0
    import os

    process = subprocess.Popen([sys.executable, "-m", "deskterm", "sync", "--watch", "--interval", "0.5"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    try:
        time.sleep(3)
        assert process.poll() is None, "watch mode must keep running"
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler prints where every thread is
            _, err = process.communicate(timeout=10)
            pytest.fail("watch did not stop on Ctrl-C:\n" + err[-4000:])
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "watching 11 sources every 0.5 s" in err
    assert err.count("✓ amazon-de") >= 2, "it synced more than once"
    assert "Traceback" not in err
