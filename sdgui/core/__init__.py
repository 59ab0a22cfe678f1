"""The headless core of sdgui: never imports Qt."""
