"""Keeping a dialog's layout steady: labels whose text changes keep their height, a form's label column keeps its
width, so nothing moves under the user's cursor while they type or when a result appears."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel


def reserve_lines(label: QLabel, lines: int, vertical: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignTop) -> None:
    """Give a wrapping label the height of ``lines`` lines whatever it shows, so the widgets below never move."""
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | vertical)
    label.setFixedHeight(label.fontMetrics().lineSpacing() * lines + 2 * label.margin() + 4)


def fix_label_column(form: QFormLayout, texts: Iterable[str]) -> None:
    """Make ``form``'s label column as wide as the widest of ``texts`` (every text its labels may show), so that
    relabelling a row moves no field."""
    items = [form.itemAt(row, QFormLayout.ItemRole.LabelRole) for row in range(form.rowCount())]
    labels = [label for item in items if item is not None and isinstance(label := item.widget(), QLabel)]
    if not labels:
        return
    width = max((labels[0].fontMetrics().horizontalAdvance(text) for text in texts), default=0)
    for label in labels:
        label.setMinimumWidth(max(width, label.sizeHint().width()))
