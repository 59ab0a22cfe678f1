"""The bundle's entry point: the ``sdgui`` command (without a subcommand, the window)."""

from sdgui.cli import entry

raise SystemExit(entry())
