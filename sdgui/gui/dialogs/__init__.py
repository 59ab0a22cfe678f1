"""Dialogs: volumes, conflicts, preferences."""
