"""How fast this machine is right now, printed next to the figures it qualifies.

The benchmark VM is shared: on some days a plain Python loop runs twice as slowly
and part of the CPU time is stolen by the host. Recording both with each run lets
a reader compare figures from different days instead of guessing.
"""

import time


def loop_seconds(iterations: int = 10_000_000) -> float:
    """Wall time of a fixed pure-Python loop (about 0.24 s on a quiet day here)."""
    started = time.perf_counter()
    total = 0
    for number in range(iterations):
        total += number
    return round(time.perf_counter() - started, 3)


class StealMeter:
    """Share of CPU time the hypervisor took from this VM since the meter was made."""

    def __init__(self) -> None:
        self._before = _cpu_times()

    def percent(self) -> float | None:
        after = _cpu_times()
        if self._before is None or after is None:
            return None
        deltas = [b - a for a, b in zip(self._before, after, strict=True)]
        total = sum(deltas)
        return round(100 * deltas[7] / total, 1) if total else None


def _cpu_times() -> list[int] | None:
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return None
    return [int(value) for value in fields[:8]] if len(fields) >= 8 else None
