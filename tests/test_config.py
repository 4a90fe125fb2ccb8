"""Config: typed, validated, errors name file, line and key; secrets refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deskterm.config import STARTER_CONFIG, ConfigError, load_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.sync.interval_seconds == 300 and config.default_profile is None


def test_starter_config_is_valid(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, STARTER_CONFIG))
    assert config.ui.theme == "textual-dark"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[sync]\ninterval_seconds = "often"\n', ":2: sync.interval_seconds: must be a whole number, not a string"),
        ("[ui]\ntheme = 'nord'\ncolour = 'red'\n", ":3: ui.colour: unknown setting"),
        ("[sink]\nx = 1\n", ":1: sink: unknown section"),
        ("default_profile = 'a b'\n", ":1: default_profile: use letters"),
        ("[sync]\ninterval_seconds = 1\n", ":2: sync.interval_seconds: must be at least 10"),
        ("[ui\ntheme = 1\n", ":1: not valid TOML"),
        ("[sync]\n\napi_token = 'abc123'\n", ":3: sync.api_token: secrets never go in the config file"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_bad_config_gives_one_line_from_the_cli(isolated_home) -> None:  # type: ignore[no-untyped-def]
    isolated_home.config_file.parent.mkdir(parents=True)
    isolated_home.config_file.write_text("[sync]\ninterval_seconds = 'x'\n")
    result = subprocess.run([sys.executable, "-m", "deskterm", "sync"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "config.toml:2: sync.interval_seconds" in result.stderr


def test_reply_settings_and_signatures_per_account(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from deskterm.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('[reply]\nundo_seconds = 5\nsignature = "Grüße\\\\nTeam"\n'
                    '[reply.signatures]\namazon-de = "Ihr Team auf Amazon"\n', encoding="utf-8")
    config = load_config(path)
    assert config.reply.undo_seconds == 5
    assert config.reply.signature_for("mail") == "Grüße\nTeam"
    assert config.reply.signature_for("amazon-de") == "Ihr Team auf Amazon"
    assert config.templates_dir == tmp_path / "templates"


def test_saved_views_team_and_per_account_clocks(tmp_path: Path) -> None:
    from deskterm.domain.sla import configure, policy_for

    config = load_config(_write(tmp_path, '[team]\nagents = ["Anna", "Ben"]\nqueues = ["retouren"]\n'
                                          '[views.amazon-heute]\nquery = "channel:amazon due:today"\nkey = "9"\n'
                                          '[sla.account.amazon-b2b]\nchannel = "amazon"\nhours = 12\n'))
    assert config.team.agents == ("Anna", "Ben") and config.team.queues == ("retouren",)
    assert config.views == {"amazon-heute": {"query": "channel:amazon due:today", "key": "9"}}
    try:
        configure(config.sla.state, config.sla.channels)
        b2b, other = policy_for("amazon", "amazon-b2b"), policy_for("amazon", "amazon-de")
        assert b2b is not None and other is not None and (b2b.hours, other.hours) == (12, 24)
    finally:
        configure()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[views.x]\nquery = "due:4h"\n', ":2: views.x.query: due: schreiben Sie due:<4h"),
        ('[views.x]\nquery = "tag:vip"\nkey = "1"\n', "views.x.key: \"1\" belongs to a built-in view"),
        ('[views.x]\nkey = "7"\n', "views.x.query: a search such as"),
        ('[sla.account.shop]\nhours = 8\n', "sla.account.shop.channel: name the account's channel"),
        ('[sla.account.shop]\nchannel = "email"\nhours = "acht"\n', "sla.account.shop.hours: not a valid setting"),
    ],
)
def test_bad_views_and_account_clocks_are_explained(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(")):
        load_config(_write(tmp_path, text))
