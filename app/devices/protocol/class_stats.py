"""Per-class running statistics on the wire (docs/controller-protocol.md "Per-class running
statistics"): the layout shared by the runtime (app.devices.controller.class_stats) and the
workstation client (app.devices.flash.class_stats)."""

from __future__ import annotations

from app.devices.protocol.registers import MAX_SCORES

# Kept apart from registers.py on purpose: the block is optional (an older controller
# answers exception 02 at its address, and the workstation then falls back to the pooled
# statistics of IR 700-1255), and its page length depends on the running model.
CLASS_BASE = 7000
CLASS_REGION = 3000           # IR 7000-9999, up to the chunk digests at 10000
CLASS_HEAD = 8
MAX_PAGES = MAX_SCORES        # one page per class the model can name
RING = 128                    # windows the statistics cover: the newest valid and invalid
PUBLISH_EVERY = 8             # windows between two published snapshots
PAGE_HEAD = 2                 # count (u32) before the means and sums of squares


def stride(n_values: int) -> int:
    """Registers of one class page: count, then mean and m2 as float32 per value."""
    return PAGE_HEAD + 4 * n_values


def capacity(pages: int) -> int:
    """Most values per page that ``pages`` pages fit into the region."""
    return max(0, ((CLASS_REGION - CLASS_HEAD) // max(1, pages) - PAGE_HEAD) // 4)


def page_address(page: int, n_values: int) -> int:
    """First register of class page ``page``."""
    return CLASS_BASE + CLASS_HEAD + page * stride(n_values)
