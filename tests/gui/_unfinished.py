"""Leave a journaled job unfinished the way the core does it: a real FileCopyJob, cancelled after its first file."""

from __future__ import annotations

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction
from sdgui.core.copy.events import FileDone, JobCancelled, JobEvent
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.journal import Journal
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeRegistry

ONE_AT_A_TIME = TransferSettings(file_concurrency=1)


def leave_cancelled_job(action: CopyAction) -> str:
    """Run ``action`` one file at a time with the user's journal and cancel it once its first file is done; returns
    the job's id. The journal then holds it as a cancelled job with one file done and the others pending."""
    backends = BackendCache(VolumeRegistry(), settings=ONE_AT_A_TIME)
    with Journal() as journal:
        job = FileCopyJob(action, backends, journal=journal)

        def cancel_after_first_file(event: JobEvent) -> None:
            if isinstance(event, FileDone):
                job.cancel()

        try:
            final = job.run(cancel_after_first_file)
        finally:
            backends.close()
    assert isinstance(final, JobCancelled) and final.files_done == 1, final
    return job.job_id
