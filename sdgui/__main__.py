from sdgui.cli import entry

raise SystemExit(entry())
