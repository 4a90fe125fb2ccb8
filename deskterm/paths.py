"""Where deskterm keeps its files: platform dirs, or everything under $DESKTERM_HOME.

`DESKTERM_HOME` exists so tests, benchmarks and the demo can run in an isolated folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "deskterm"
PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class InvalidProfileName(ValueError):
    """A profile name that cannot be a file name."""


@dataclass(frozen=True, slots=True)
class Locations:
    """The three folders deskterm writes to."""

    data_dir: Path
    config_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "log" / "deskterm.log"

    def store_path(self, profile: str) -> Path:
        """The SQLite file of one profile."""
        if not PROFILE_NAME_RE.match(profile):
            raise InvalidProfileName(f"invalid profile name {profile!r}: use letters, digits, '-', '_' or '.'")
        return self.data_dir / "profiles" / f"{profile}.sqlite3"


def locations() -> Locations:
    """Resolve the folders for this process (honours $DESKTERM_HOME)."""
    home = os.environ.get("DESKTERM_HOME")
    if home:
        root = Path(home).expanduser()
        return Locations(root / "data", root / "config", root / "state")
    import platformdirs

    return Locations(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
    )
