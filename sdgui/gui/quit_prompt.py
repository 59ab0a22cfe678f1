"""The question a window asks when it is closed while transfers run: quit and resume later, cancel them, or stay."""

from __future__ import annotations

import enum

from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from sdgui.gui.jobs.job_state import JobState
from sdgui.gui.models.transfers_model import source_names

QUIT_WAIT_S = 1.2
"""How long closing waits for the running jobs to stop; the window closes then whatever they do (a job that has
not stopped is left to the journal, which offers it again at the next start)."""
_NAMED = 3


class QuitChoice(enum.Enum):
    RESUME_LATER = "resume later"
    CANCEL_TRANSFERS = "cancel transfers"
    KEEP_RUNNING = "keep running"


def quit_text(active: list[JobState]) -> tuple[str, str]:
    """The prompt's question and its details: how many transfers, the first ones by what they copy where."""
    running = sum(1 for state in active if state.state == "running")
    queued = len(active) - running
    counts = [f"{running} running" if running else "", f"{queued} waiting" if queued else ""]
    question = (
        f"{len(active)} transfer{'s are' if len(active) != 1 else ' is'} not finished "
        f"({', '.join(c for c in counts if c)})."
    )
    titles = [f"• {source_names(state)} → {state.destination_text}" for state in active[:_NAMED]]
    if len(active) > _NAMED:
        titles.append(f"• … and {len(active) - _NAMED} more")
    details = (
        "\n".join(titles) + "\n\nQuit and resume later keeps what has arrived; the next start offers to finish it. "
        "Cancel transfers stops them for good and deletes their partial downloads."
    )
    return question, details


def quit_box(parent: QWidget, active: list[JobState]) -> tuple[QMessageBox, dict[QAbstractButton, QuitChoice]]:
    """The prompt for ``active`` transfers and what each of its buttons means (not shown yet)."""
    question, details = quit_text(active)
    box = QMessageBox(parent)
    box.setObjectName("quitPrompt")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit sdgui")
    box.setText(question)
    box.setInformativeText(details)
    resume = box.addButton("Quit and resume later", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Cancel transfers and quit", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(resume)
    box.setEscapeButton(keep)
    return box, {resume: QuitChoice.RESUME_LATER, cancel: QuitChoice.CANCEL_TRANSFERS, keep: QuitChoice.KEEP_RUNNING}


def ask_quit(parent: QWidget, active: list[JobState]) -> QuitChoice:
    """Ask what to do with ``active`` transfers; Escape (or closing the box) keeps them running."""
    box, choices = quit_box(parent, active)
    box.exec()
    clicked = box.clickedButton()
    return choices.get(clicked, QuitChoice.KEEP_RUNNING) if clicked is not None else QuitChoice.KEEP_RUNNING
