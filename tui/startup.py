"""How long the app took from process start to being ready for the first keystroke, and the end
of the start-up pause of the garbage collector."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

STARTUP_LOG_ENV = "CLASSLOG_STARTUP_LOG"
_IMPORTED_AT = time.perf_counter()


def process_age_ms() -> float:
    """Milliseconds since this process started: from /proc on Linux (10 ms resolution), else
    since this module was imported."""
    try:
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        age = (since_boot - start_ticks / ticks_per_second) * 1000
        if age >= 0:
            return age
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    return (time.perf_counter() - _IMPORTED_AT) * 1000


def record_startup(milliseconds: float) -> None:
    """Append the figure to the file named by $CLASSLOG_STARTUP_LOG, if set (for scripts/bench)."""
    target = os.environ.get(STARTUP_LOG_ENV)
    if not target:
        return
    with open(target, "a", encoding="utf-8") as log_file:
        log_file.write(f"{milliseconds:.1f}\n")


def end_startup_gc_pause() -> None:
    """Turn the garbage collector back on if the entry point paused it for start-up
    (`classlog.cli`), first freezing what start-up allocated: the imported modules, styles and
    widgets live for the whole session, so later collections need not scan them again."""
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()
