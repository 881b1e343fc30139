"""Benchmarks: how a list of timings is written in a table cell (one way for every bench)."""

from __future__ import annotations

import statistics


def ms_p99(seconds: list[float]) -> str:
    """``median ms (p99 ...)``: for many short repeats, where the tail is the story."""
    values = sorted(seconds)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"{statistics.median(values) * 1000:.2f} ms (p99 {p99 * 1000:.2f})"


def ms_range(runs: list[dict[str, float]], key: str) -> str:
    """``median ms (min–max)`` of one key over runs: for few, long repeats."""
    values = sorted(r[key] * 1000 for r in runs)
    return f"{statistics.median(values):.0f} ms ({values[0]:.0f}–{values[-1]:.0f})"
