"""Ask what to do with a name that already exists at the destination: a file (Skip, Overwrite or Keep both) or a
folder (Skip, or merge into it keeping, replacing or keeping both of the files of the same name)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.base import Entry
from sdgui.core.units import format_size

ConflictAnswer = Literal["skip", "overwrite", "rename", "merge"]
"""``merge`` (folders only): copy into the existing folder, keeping the files that are there already."""


def format_modified(modified: datetime | None) -> str:
    """Local date and time to the minute, or "unknown"."""
    if modified is None:
        return "unknown"
    local = modified.astimezone() if modified.tzinfo is not None else modified
    return local.strftime("%Y-%m-%d %H:%M")


def _size_text(info: Entry | None) -> str:
    if info is None:
        return "size unknown"
    return "folder" if info.is_dir else format_size(info.size)


def _comparison(src: Entry | None, dst: Entry | None) -> tuple[str, str]:
    """Short hints ("newer", "larger") for the source and destination rows."""
    if src is None or dst is None or src.is_dir or dst.is_dir:
        return "", ""
    hints: tuple[list[str], list[str]] = ([], [])
    if src.modified is not None and dst.modified is not None and src.modified != dst.modified:
        hints[0 if src.modified > dst.modified else 1].append("newer")
    if src.size != dst.size:
        hints[0 if src.size > dst.size else 1].append("larger")
    return ", ".join(hints[0]), ", ".join(hints[1])


class ConflictDialog(QDialog):
    """One name that exists in both places; ``answer`` and ``apply_to_all`` tell what the user chose. With
    ``folder`` the name is a folder in both places, and the answers are Skip or one of three ways to merge."""

    def __init__(
        self,
        parent: QWidget | None,
        name: str,
        destination: str,
        src_info: Entry | None = None,
        dst_info: Entry | None = None,
        *,
        folder: bool = False,
    ) -> None:
        super().__init__(parent)
        self.folder = folder
        self.setWindowTitle("Folder exists" if folder else "File exists")
        self.answer: ConflictAnswer | None = None

        icon = QLabel()
        icon_size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        question_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion)
        icon.setPixmap(question_icon.pixmap(icon_size, icon_size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)

        # A long destination gets a line of its own rather than being broken at some "/".
        gap = "<br>" if len(name) + len(destination) > 45 else " "
        self.heading = QLabel(f"<b>“{html.escape(name)}” already exists in{gap}{html.escape(destination)}</b>")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setMinimumWidth(440)  # wrap long paths, not ordinary ones
        question = QLabel(
            "Merge the folders? Choose what happens to the files that are in both."
            if folder
            else "Replace it with the file you are copying?"
        )
        question.setWordWrap(True)

        details = QGridLayout()
        details.setHorizontalSpacing(14)
        details.setVerticalSpacing(4)
        src_hint, dst_hint = _comparison(src_info, dst_info)
        self.rows: dict[str, list[QLabel]] = {}
        for row, (label, info, hint) in enumerate(
            (("Source", src_info, src_hint), ("Destination", dst_info, dst_hint))
        ):
            size = QLabel(_size_text(info))
            if info is not None and not info.is_dir:
                size.setToolTip(f"{info.size:,} bytes")
            modified = QLabel(f"modified {format_modified(info.modified)}" if info is not None else "")
            cells: list[QLabel] = [QLabel(f"<b>{label}:</b>"), size, modified, QLabel(f"<i>{hint}</i>" if hint else "")]
            for column, cell in enumerate(cells):
                details.addWidget(cell, row, column)
            self.rows[label.lower()] = cells
        details.setColumnStretch(3, 1)

        self.apply_to_all = QCheckBox(
            "Apply to all remaining folders that exist" if folder else "Apply to all remaining files that exist"
        )

        accept = QDialogButtonBox.ButtonRole.AcceptRole
        buttons = QDialogButtonBox()
        self.skip_button = self._add_button(buttons, "Skip", "skip", accept)
        self.merge_button: QPushButton | None = None
        if folder:
            self.skip_button.setToolTip("Copy nothing of this folder")
            self.merge_button = self._add_button(buttons, "Merge, keep existing", "merge", accept)
            self.merge_button.setToolTip("Copy into it only the files it does not have yet")
            self.overwrite_button = self._add_button(buttons, "Merge, replace", "overwrite", accept)
            self.overwrite_button.setToolTip("Copy into it, overwriting the files of the same name")
            self.keep_both_button = self._add_button(buttons, "Merge, keep both", "rename", accept)
            self.keep_both_button.setToolTip("Copy into it; a file of the same name gets a numbered name")
        else:
            self.overwrite_button = self._add_button(buttons, "Overwrite", "overwrite", accept)
            self.keep_both_button = self._add_button(buttons, "Keep both", "rename", accept)
            self.keep_both_button.setToolTip("Copy it under a numbered name, like “name (1).ext”")
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Stop: copy nothing more")
        cancel.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        self.skip_button.setDefault(True)  # Enter never destroys anything

        text = QVBoxLayout()
        text.addWidget(self.heading)
        text.addWidget(question)
        if not folder:  # a folder's size and date say nothing about what merging it would do
            text.addSpacing(6)
            text.addLayout(details)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addSpacing(8)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        # Sized to its contents like a message box: the wrapped heading otherwise squeezes the rows below it.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        layout.addLayout(top)
        layout.addSpacing(6)
        layout.addWidget(self.apply_to_all)
        layout.addWidget(buttons)

    def _add_button(
        self, buttons: QDialogButtonBox, text: str, answer: ConflictAnswer, role: QDialogButtonBox.ButtonRole
    ) -> QPushButton:
        button = buttons.addButton(text, role)
        assert isinstance(button, QPushButton)
        button.setAutoDefault(False)
        button.clicked.connect(lambda: self._choose(answer))
        return button

    def _choose(self, answer: ConflictAnswer) -> None:
        self.answer = answer
        self.accept()

    def result_pair(self) -> tuple[ConflictAnswer | None, bool]:
        """(answer, apply to all); the answer is None when the user cancelled."""
        if self.answer is None:
            return None, False
        return self.answer, self.apply_to_all.isChecked()

    @staticmethod
    def ask(
        parent: QWidget | None,
        name: str,
        destination: str,
        src_info: Entry | None = None,
        dst_info: Entry | None = None,
        *,
        folder: bool = False,
    ) -> tuple[ConflictAnswer | None, bool]:
        """Show the dialog modally: ("skip" | "overwrite" | "rename" | "merge", apply_to_all), or (None, False) on
        cancel."""
        dialog = ConflictDialog(parent, name, destination, src_info, dst_info, folder=folder)
        try:
            dialog.exec()
            return dialog.result_pair()
        finally:
            dialog.deleteLater()


ask = ConflictDialog.ask
