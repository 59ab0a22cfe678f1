"""The job journal: every job and the state of each of its files, in SQLite, so an interrupted job can resume."""

from sdgui.core.journal.info import DownloadState, FileInfo, FileState, JobInfo, JobState, JournalError
from sdgui.core.journal.records import FileRecord, JobRecord, JournaledAction
from sdgui.core.journal.store import JOURNAL_FILE, Journal

__all__ = [
    "JOURNAL_FILE",
    "DownloadState",
    "FileInfo",
    "FileRecord",
    "FileState",
    "JobInfo",
    "JobRecord",
    "JobState",
    "Journal",
    "JournalError",
    "JournaledAction",
]
