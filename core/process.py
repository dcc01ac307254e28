"""Process-wide tuning shared by FRAMES' long-running work (the bot, imports, NDA runs)."""

from __future__ import annotations

import os

# Capture and imports allocate millions of short-lived objects (payloads, records, rows);
# with the default first-generation threshold (700) the cycle collector keeps walking every
# live object, which measured a fifth of derivation time and a tenth of the bot's. Cycles
# are rare here, so the young generation is collected every 100,000 allocations.
GC_THRESHOLD = (100_000, 50, 1000)


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
