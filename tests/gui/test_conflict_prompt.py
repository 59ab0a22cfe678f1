"""The window's conflict prompt looks at the destination afresh: real sizes and dates of what is there now, no
question about a name that is gone, a question about a name no pane has seen; apply-to-all; a name that appears
after the look fails in the window's words; a failed row shows what was copied."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.core.units import format_size
from sdgui.gui.dialogs.conflict_dialog import ConflictDialog, format_modified
from sdgui.gui.main_window import MainWindow
from sdgui.gui.models.transfers_model import PROGRESS_ROLE
from sdgui.gui.models.transfers_model import Column as TransferColumn
from tests.copying import read_object
from tests.gui.test_main_window import (
    JOB_TIMEOUT_MS,
    LIST_TIMEOUT_MS,
    LOCAL_FILES,
    focus,
    object_keys,
    select,
    wait_ended,
    wait_names,
)
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.gui.test_main_window import window as window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


@dataclass
class Seen:
    """What one conflict dialog showed: its title, heading and each row's cells (label, size, date, hint)."""

    title: str
    heading: str
    rows: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Answerer:
    """Answers each modal ConflictDialog with the next of ``answers`` (a button's attribute name, or "cancel"),
    recording what it showed."""

    answers: list[tuple[str, bool]]
    seen: list[Seen] = field(default_factory=list)

    def poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ConflictDialog) or not dialog.isVisible():
            return
        self.seen.append(
            Seen(
                dialog.windowTitle(),
                dialog.heading.text(),
                {name: [cell.text() for cell in cells] for name, cells in dialog.rows.items()},
            )
        )
        button, apply_to_all = self.answers.pop(0)
        dialog.apply_to_all.setChecked(apply_to_all)
        if button == "cancel":
            buttons = dialog.findChild(QDialogButtonBox)
            assert buttons is not None
            buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
        else:
            getattr(dialog, button).click()


@pytest.fixture
def answer(qtbot: QtBot) -> Iterator[Answerer]:
    """Set ``answer.answers`` before the gesture; a timer clicks them in the real dialogs as they open."""
    answerer = Answerer([])
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(answerer.poll)
    timer.start()
    yield answerer
    timer.stop()


def copy_gesture(qtbot: QtBot, window: MainWindow, *names: str) -> list[str]:
    """Select ``names`` in the left pane and press F5; the ids of the jobs queued once the prompt is answered."""
    select(window.left, *names)
    focus(qtbot, window, window.left)
    with qtbot.waitSignal(window.copy_requests.submitted, timeout=LIST_TIMEOUT_MS) as submitted:
        QTest.keyClick(window.left.view, Qt.Key.Key_F5)
    return list(submitted.args[0])


def test_the_prompt_shows_both_real_files_for_an_object_written_behind_the_panes_back(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path, answer: Answerer
) -> None:
    hour_ago = time.time() - 3600
    os.utime(local_dir / "b.bin", (hour_ago, hour_ago))
    client = moto_s3.client()
    client.put_object(Bucket=cloud, Key="b.bin", Body=b"x" * 12_345)  # after the right pane listed: it never saw it
    assert "b.bin" not in window.right.model.names()
    there = client.head_object(Bucket=cloud, Key="b.bin")["LastModified"]
    here = datetime.fromtimestamp((local_dir / "b.bin").stat().st_mtime).astimezone()
    answer.answers = [("overwrite_button", False)]

    ids = copy_gesture(qtbot, window, "a.txt", "b.bin")

    [seen] = answer.seen
    assert seen.title == "File exists"
    assert "“b.bin” already exists in cloud:" in seen.heading
    assert seen.rows["source"][1:3] == [format_size(100_000), f"modified {format_modified(here)}"]
    assert seen.rows["destination"][1:3] == [format_size(12_345), f"modified {format_modified(there)}"]
    assert (seen.rows["source"][3], seen.rows["destination"][3]) == ("<i>larger</i>", "<i>newer</i>")
    states = [wait_ended(qtbot, window, job_id) for job_id in ids]
    assert [state.state for state in states] == ["finished", "finished"], [state.error for state in states]
    assert read_object(moto_s3, cloud, "b.bin") == LOCAL_FILES["b.bin"]
    assert read_object(moto_s3, cloud, "a.txt") == LOCAL_FILES["a.txt"]


def test_the_window_answers_while_it_looks_and_says_so(qtbot: QtBot, window: MainWindow, answer: Answerer) -> None:
    select(window.left, "a.txt")
    focus(qtbot, window, window.left)
    with qtbot.waitSignal(window.copy_requests.submitted, timeout=LIST_TIMEOUT_MS) as submitted:
        QTest.keyClick(window.left.view, Qt.Key.Key_F5)
        # The key press has returned: the look runs on a worker, and its answer cannot come before the loop runs.
        assert window.copy_requests.looking == 1
        assert window.cursor().shape() == Qt.CursorShape.BusyCursor
        assert window.statusBar().currentMessage() == "Looking for names that already exist in cloud:…"
    assert window.copy_requests.looking == 0 and window.cursor().shape() != Qt.CursorShape.BusyCursor
    [job_id] = submitted.args[0]
    assert wait_ended(qtbot, window, job_id).state == "finished"


def test_no_question_about_a_name_deleted_behind_the_panes_back(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, answer: Answerer
) -> None:
    client = moto_s3.client()
    client.put_object(Bucket=cloud, Key="a.txt", Body=b"old")
    window.right.refresh()
    wait_names(qtbot, window.right, {"a.txt"})
    client.delete_object(Bucket=cloud, Key="a.txt")  # the pane still lists it

    [job_id] = copy_gesture(qtbot, window, "a.txt")

    assert answer.seen == []
    assert wait_ended(qtbot, window, job_id).state == "finished"
    assert read_object(moto_s3, cloud, "a.txt") == LOCAL_FILES["a.txt"]


def test_apply_to_all_answers_the_remaining_conflicts(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, answer: Answerer
) -> None:
    client = moto_s3.client()
    for name in LOCAL_FILES:
        client.put_object(Bucket=cloud, Key=name, Body=b"theirs")
    answer.answers = [("keep_both_button", True)]

    ids = copy_gesture(qtbot, window, *LOCAL_FILES)

    assert len(answer.seen) == 1  # the other two took the first answer
    assert [wait_ended(qtbot, window, job_id).state for job_id in ids] == ["finished"]
    assert object_keys(moto_s3, cloud) == sorted([*LOCAL_FILES, "a (1).txt", "b (1).bin", "c (1).txt"])
    assert read_object(moto_s3, cloud, "b (1).bin") == LOCAL_FILES["b.bin"]
    assert read_object(moto_s3, cloud, "b.bin") == b"theirs"


def test_a_destination_no_pane_shows_is_asked_about_and_cancel_copies_nothing(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path, answer: Answerer
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="elsewhere/c.txt", Body=b"theirs")
    answer.answers = [("cancel", False)]
    sources = [SdPath(None, str(local_dir / name)) for name in ("a.txt", "c.txt")]

    with qtbot.waitSignal(window.copy_requests.submitted, timeout=LIST_TIMEOUT_MS) as submitted:
        window.start_copy(sources, SdPath.parse("cloud:elsewhere/"), False)

    assert submitted.args == [[]]
    assert [seen.heading for seen in answer.seen] == ["<b>“c.txt” already exists in cloud:elsewhere/</b>"]
    assert object_keys(moto_s3, cloud) == ["elsewhere/c.txt"]  # Cancel: not even a.txt was copied
    assert window.cursor().shape() != Qt.CursorShape.BusyCursor


def test_a_folder_that_exists_is_merged_keeping_its_files(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path, answer: Answerer
) -> None:
    (local_dir / "docs").mkdir()
    (local_dir / "docs" / "same.txt").write_bytes(b"mine")
    (local_dir / "docs" / "new.txt").write_bytes(b"new")
    moto_s3.client().put_object(Bucket=cloud, Key="docs/same.txt", Body=b"theirs")
    window.left.refresh()
    wait_names(qtbot, window.left, {"docs"})
    answer.answers = [("merge_button", False)]

    [job_id] = copy_gesture(qtbot, window, "docs")

    [seen] = answer.seen
    assert seen.title == "Folder exists"
    assert wait_ended(qtbot, window, job_id).state == "finished"
    assert read_object(moto_s3, cloud, "docs/same.txt") == b"theirs"
    assert read_object(moto_s3, cloud, "docs/new.txt") == b"new"


def test_a_name_that_appears_after_the_look_fails_in_the_windows_words_and_the_row_shows_what_was_copied(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, answer: Answerer
) -> None:
    window.jobs.pause_queue()  # the job waits between the look and its first write
    [job_id] = copy_gesture(qtbot, window, "a.txt", "c.txt")
    assert answer.seen == []  # nothing was there when the window looked
    moto_s3.client().put_object(Bucket=cloud, Key="c.txt", Body=b"theirs")
    window.jobs.resume_queue()
    state = wait_ended(qtbot, window, job_id, timeout=JOB_TIMEOUT_MS)

    expected = "“c.txt” already exists in cloud:; copy again and choose Skip, Overwrite or Keep both"
    assert state.state == "failed"
    assert state.error == expected
    assert [message for _, message in state.failed_files] == [expected]
    assert "--on-conflict" not in window.statusBar().currentMessage()
    assert expected in window.statusBar().currentMessage()
    assert read_object(moto_s3, cloud, "c.txt") == b"theirs"
    model = window.transfers.model
    row = model.row_of(job_id)
    assert model.index(row, TransferColumn.PROGRESS).data() == "50%"  # a.txt copied, c.txt not: not 100 %
    assert model.index(row, TransferColumn.PROGRESS).data(PROGRESS_ROLE) == pytest.approx(0.5)
    assert model.index(row, TransferColumn.TRANSFERRED).data() == "6 bytes of 12 bytes copied (1/2 files)"
