"""`python -m deskterm` runs the CLI."""

from deskterm.cli import main

raise SystemExit(main())
