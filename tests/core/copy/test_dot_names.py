"""Names that begin with a dot keep it, at the root of a local volume as anywhere else."""

from __future__ import annotations

from pathlib import Path

from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from tests.copying import run_copy, write_tree

FILES = {".git/config": b"[core]\n", ".env": b"A=1\n", "plain.txt": b"plain\n"}


def test_a_folder_copied_to_the_root_of_a_local_volume_keeps_its_dotted_names(tmp_path: Path) -> None:
    registry = VolumeRegistry()
    registry.add(VolumeConfig("disk", "local", root=str(tmp_path / "vol")))
    registry.save()
    (tmp_path / "vol").mkdir()
    source = write_tree(tmp_path / "src", FILES)

    run = run_copy([str(source / name) for name in (".git", ".env", "plain.txt")], "disk:")

    assert run.final.type == "job_finished", run.events
    written = {
        str(p.relative_to(tmp_path / "vol")): p.read_bytes() for p in (tmp_path / "vol").rglob("*") if p.is_file()
    }
    assert written == FILES
