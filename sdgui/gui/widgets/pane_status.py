"""The line under a pane's list: how many items, how many selected and how big, how many match the filter."""

from __future__ import annotations

from collections.abc import Iterable

from sdgui.core.units import format_size
from sdgui.gui.models.listing_model import ListingModel


def _items(count: int) -> str:
    return f"{count:,} item{'' if count == 1 else 's'}"


def status_text(model: ListingModel, selected_rows: Iterable[int]) -> str:
    """``selected_rows`` are view rows; the ".." row is never counted, as an item or as selected."""
    total = model.total_count
    filtering = bool(model.filter_text)
    matching = f"{model.match_count:,} of {_items(total)} match"
    if model.last_error is not None:
        return "Listing failed"
    if model.is_loading:
        if filtering:
            return f"Loading… {matching} so far"
        return f"Loading… {total:,} items so far" if total else "Loading…"
    entries = [entry for entry in (model.entry(row) for row in selected_rows) if entry is not None]
    if entries:
        size = format_size(sum(entry.size for entry in entries if not entry.is_dir))
        shown = model.match_count if filtering else total
        text = f"{len(entries):,} of {shown:,} selected, {size}"
        if filtering:
            text += f" ({matching})"
    else:
        text = matching if filtering else _items(total)
    if model.hidden_count:
        text += f" ({model.hidden_count:,} hidden: Ctrl+H shows them)"
    return text
