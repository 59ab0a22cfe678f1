"""The colours the dialogs give text that reports success or failure."""

OK_COLOR = "#1a7f37"
ERROR_COLOR = "#cf222e"
