"""Copy share link: a presigned URL for the object selected in the active pane, valid 1 hour, 1 day or 7 days, put on
the clipboard. Offered in the Edit menu and the context menu for one object on a cloud volume; Ctrl+Shift+C opens
the choice at the selected row. Signing runs off the GUI thread (opening the backend may ask the keyring)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu, QMessageBox, QWidget

from sdgui.core.backends.base import SHARE_LINK_LIFETIMES
from sdgui.core.backends.factory import BackendCache
from sdgui.core.paths import SdPath
from sdgui.gui.error_text import error_text
from sdgui.gui.jobs.worker import run_task

SHORTCUT = "Ctrl+Shift+C"
MENU_TITLE = "Copy share link"


class ShareLinks(QObject):
    """The share-link menus of one window. ``selected()`` gives the active pane's selection, ``view()`` its list,
    ``status(text, ms)`` shows a message in the window's status bar."""

    def __init__(
        self,
        window: QWidget,
        backends: Callable[[], BackendCache],
        selected: Callable[[], list[SdPath]],
        view: Callable[[], QAbstractItemView],
        status: Callable[[str, int], None],
    ) -> None:
        super().__init__(window)
        self.parent_widget = window
        self.backends = backends
        self.selected = selected
        self.view = view
        self.status = status
        self.copied: list[str] = []
        """Every link put on the clipboard, in order (tests and the status bar read the last)."""
        self.shortcut_action = QAction(f"{MENU_TITLE}…", window)
        self.shortcut_action.setObjectName("copyShareLink")
        self.shortcut_action.setShortcut(SHORTCUT)
        self.shortcut_action.triggered.connect(self.popup_at_selection)

    def shareable(self) -> SdPath | None:
        """The one object selected, if it is on a cloud volume; None otherwise (local files have no share link)."""
        paths = self.selected()
        if len(paths) != 1 or paths[0].is_dir or paths[0].volume is None:
            return None
        try:
            kind = self.backends().registry.get(paths[0].volume).kind
        except Exception:  # a volume removed meanwhile
            return None
        return paths[0] if kind != "local" else None

    def menu(self, parent: QWidget) -> QMenu:
        """A "Copy share link" submenu with one entry per lifetime, enabled for one object on a cloud volume."""
        menu = QMenu(MENU_TITLE, parent)
        menu.setObjectName("shareLinkMenu")
        for name, lifetime in SHARE_LINK_LIFETIMES:
            action = menu.addAction(f"Valid for {name}")
            action.setObjectName(f"shareLink {name}")
            action.triggered.connect(lambda _=False, n=name, t=lifetime: self.copy_link(n, t))
        # Decided as the menu opens (the panes may not exist yet when the Edit menu is built); a disabled submenu
        # never opens, so the opening of the menu it sits in decides.
        (parent if isinstance(parent, QMenu) else menu).aboutToShow.connect(lambda: self._enable(menu))
        return menu

    def _enable(self, menu: QMenu) -> None:
        enabled = self.shareable() is not None
        menu.menuAction().setEnabled(enabled)
        for action in menu.actions():
            action.setEnabled(enabled)

    def popup_at_selection(self) -> QMenu | None:
        """The lifetimes, under the selected row of the active pane (Ctrl+Shift+C)."""
        if self.shareable() is None:
            self.status("Select one object on a cloud volume to copy a share link to it", 4000)
            return None
        view = self.view()
        rect = view.visualRect(view.currentIndex())
        menu = self.menu(self.parent_widget)
        menu.popup(view.viewport().mapToGlobal(rect.bottomLeft()))
        self.popup = menu
        return menu

    def copy_link(self, name: str, lifetime: timedelta) -> None:
        """Sign a GET of the selected object for ``lifetime`` and put the URL on the clipboard."""
        path = self.shareable()
        if path is None:
            return
        backends = self.backends()
        until = datetime.now().astimezone() + lifetime
        self.status(f"Signing a share link to {path}…", 4000)
        run_task(
            lambda: backends.get(path.volume).share_link(path.backend_key, lifetime),
            lambda url: self._copied(path, url, name, until),
            lambda exc: QMessageBox.warning(self.parent_widget, MENU_TITLE, error_text(exc)),
            context=self,
        )

    def _copied(self, path: SdPath, url: str | None, name: str, until: datetime) -> None:
        if url is None:
            self.status(f"{path} has no share link", 4000)
            return
        QApplication.clipboard().setText(url)
        self.copied.append(url)
        self.status(f"Share link to {path} copied: it works for {name}, until {until:%Y-%m-%d %H:%M}", 8000)
