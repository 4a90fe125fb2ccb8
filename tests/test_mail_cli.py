"""The e-mail commands, in-process (the test keyring is in memory): add an IMAP account,
list it, sync, reply, send; and the refusals: wrong password, no usable keyring."""

from __future__ import annotations

import io
import sqlite3

import keyring
import pytest
from keyring.backends import fail

from deskterm.cli import main
from deskterm.paths import Locations
from tests.helpers.dovecot import PASSWORD, Dovecot
from tests.helpers.smtp_server import SmtpServer
from tests.mail_servers import Mailbox, mail


def _add(dovecot: Dovecot, user: str, smtp_port: int, password: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["accounts", "add", "imap", "--key", "mail", "--name", "Lindenhof", "--host", "127.0.0.1",
                 "--port", str(dovecot.port), "--security", "plain", "--allow-plaintext", "--user", user,
                 "--address", "service@shop.example.test", "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port),
                 "--smtp-security", "plain", "--password-stdin", "--profile", "shop"])


def test_add_sync_reply_send_from_the_command_line(dovecot: Dovecot, isolated_home: Locations,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    user = dovecot.add_user()
    box = Mailbox(dovecot, user, isolated_home.store_path("shop"))
    box.append(mail(1))
    with SmtpServer() as smtp:
        assert _add(dovecot, user, smtp.port, PASSWORD, monkeypatch) == 0
        assert keyring.get_password("deskterm", "mail:imap") == PASSWORD
        settings = sqlite3.connect(box.store_path).execute("SELECT settings FROM accounts").fetchone()[0]
        assert PASSWORD not in settings and "keyring:deskterm/mail:imap" in settings
        assert main(["accounts", "list", "--profile", "shop"]) == 0
        assert f"{user}@127.0.0.1" in capsys.readouterr().out
        assert main(["sync", "--profile", "shop"]) == 0
        ticket = sqlite3.connect(box.store_path).execute("SELECT id FROM tickets").fetchone()[0]
        assert main(["reply", str(ticket), "--text", "Ist unterwegs.", "--profile", "shop"]) == 0
        assert main(["outbox", "send", "--profile", "shop"]) == 0
        assert "sent 1" in capsys.readouterr().out
        assert len(smtp.handler.received) == 1
        assert main(["outbox", "list", "--profile", "shop"]) == 0
        assert "\tsent\t" in capsys.readouterr().out


def test_wrong_password_saves_nothing(dovecot: Dovecot, isolated_home: Locations, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    user = dovecot.add_user()
    assert _add(dovecot, user, 1, "wrong", monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "login for" in err and "refused" in err
    assert keyring.get_password("deskterm", "mail:imap") is None
    assert not isolated_home.store_path("shop").exists(), "a failed first add leaves no empty profile"


def test_no_keyring_refuses_with_advice(dovecot: Dovecot, isolated_home: Locations, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    keyring.set_keyring(fail.Keyring())
    user = dovecot.add_user()
    assert _add(dovecot, user, 1, PASSWORD, monkeypatch) == 2
    err = capsys.readouterr().err
    assert "cannot keep the password safely" in err and "keyring" in err and err.count("\n") == 1


def test_plaintext_needs_explicit_permission(isolated_home: Locations, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    code = main(["accounts", "add", "imap", "--key", "m", "--host", "mail.example.test", "--security", "plain",
                 "--user", "u", "--address", "a@example.test", "--password-stdin", "--profile", "shop"])
    assert code == 2
    assert "refusing an unencrypted connection" in capsys.readouterr().err
