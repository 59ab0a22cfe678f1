"""The Help menu: the keyboard shortcuts, the log folder a user can send from, and what sdgui is and runs on."""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QSettings, Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from sdgui.about import about_lines
from sdgui.gui.error_text import error_text
from sdgui.gui.jobs.worker import run_task
from sdgui.logs import log_dir

log = logging.getLogger(__name__)


def add_help_menu(window: QMainWindow) -> None:
    """Help → Keyboard shortcuts, Open log folder, About sdgui."""
    menu = window.menuBar().addMenu("&Help")
    menu.addAction("Keyboard shortcuts", lambda: show_shortcuts(window)).setObjectName("shortcuts")
    menu.addAction("Open log folder", lambda: open_log_folder(window)).setObjectName("open_log_folder")
    menu.addAction("About sdgui", lambda: show_about(window)).setObjectName("about")


PANE_KEYS = (
    ("Enter, double-click", "Open a folder or a file (a cloud file is downloaded first); on “..” go up"),
    ("Backspace, Alt+Up", "Go up"),
    ("Typing a letter", "Filter names: only those containing what is typed"),
    ("Escape (in the list or the filter)", "Clear the filter"),
    ("Home / End", "First / last row"),
    ("Page Up / Page Down", "A screenful up / down (Shift extends the selection)"),
    ("Escape (in the path bar)", "Put the path back and return to the list"),
)
"""Keys the lists and the path bar handle themselves (not actions of the window)."""


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(key, what it does) for every action of ``window`` that has a shortcut, then the panes' own keys: read off
    the actions, so the reference cannot drift from what the keys do."""
    rows = []
    for action in window.actions():
        names = [key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts()]
        # Shift+Tab arrives as Backtab on some platforms: one key a person presses, bound under both names.
        keys = ", ".join(name for name in names if "Backtab" not in name or name.replace("Backtab", "Tab") not in names)
        if keys:
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
    return rows + list(PANE_KEYS)


def shortcuts_html(window: QWidget) -> str:
    cells = "".join(
        f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>"
        for keys, what in shortcut_rows(window)
    )
    return f"<table cellspacing='4'>{cells}</table>"


def show_shortcuts(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setObjectName("shortcutsBox")
    box.setWindowTitle("Keyboard shortcuts")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(shortcuts_html(parent))
    box.exec()


def open_log_folder(parent: QWidget) -> bool:
    """Show the log folder in the desktop's file manager; where there is none, say where it is."""
    folder = log_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("cannot create the log folder %s: %s", folder, exc)
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return True
    QMessageBox.information(parent, "Log folder", f"The log files are in\n{folder}")
    return False


def show_about(parent: QWidget) -> None:
    """The version, where the log is, and what sdgui runs on (gathered off the GUI thread: it asks the keyring)."""

    def shown(lines: list[tuple[str, str]]) -> None:
        (_, version), *details = lines
        details.insert(4, ("window settings", QSettings().fileName()))  # the tabs, bookmarks and layout
        details.append(("Qt", qVersion()))  # the run-time library PySide6 loaded
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in details)
        QMessageBox.about(
            parent,
            "About sdgui",
            f"<h3>sdgui {html.escape(version)}</h3>"
            "<p>Copy files between local disks and cloud object storage, verified.</p>"
            f"<table cellspacing='4'>{rows}</table>",
        )

    run_task(
        about_lines, shown, lambda exc: QMessageBox.warning(parent, "About sdgui", error_text(exc)), context=parent
    )
