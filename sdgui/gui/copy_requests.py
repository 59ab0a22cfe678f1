"""Turn dropped or pasted sources into groups of CopyActions, asking the user about conflicts."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from sdgui.core.copy.conflicts import ConflictPolicy
from sdgui.core.paths import SdPath
from sdgui.gui.dialogs.conflict_dialog import ConflictDialog


def plan_copy(
    sources: list[SdPath], destination: SdPath, existing: set[str], default: str, parent: QWidget | None
) -> dict[ConflictPolicy, list[SdPath]]:
    """Group ``sources`` by conflict policy. Names already in the destination (``existing``) are asked about
    when the default policy is "ask" (Skip / Overwrite / Keep both, with "apply to all"); skipped ones drop out.
    """
    groups: dict[ConflictPolicy, list[SdPath]] = {}
    remembered: ConflictPolicy | None = None
    for source in sources:
        policy: ConflictPolicy
        if source.name not in existing:
            policy = "fail" if default == "ask" else default  # type: ignore[assignment]
        elif default != "ask":
            policy = default  # type: ignore[assignment]
        elif remembered is not None:
            policy = remembered
        else:
            answer, apply_to_all = ConflictDialog.ask(parent, source.name, str(destination), None, None)
            if answer is None:
                return {}
            policy = answer
            if apply_to_all:
                remembered = policy
        if policy == "skip":
            continue
        groups.setdefault(policy, []).append(source)
    return groups
