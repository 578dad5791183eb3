"""The keying benchmark's watch for the machine's own pauses: the stretches every CPU's watcher
woke late for at once, and how much of each GUI tick's gap they cover."""

from __future__ import annotations

import os

import pytest

from tests.benchmarks.bench_keying_ui import _FreezeWatch, _together, _within


def test_only_stretches_every_watcher_shares_count_as_the_machine_paused() -> None:
    cpu0 = [(1.0, 1.5), (2.0, 3.0), (5.0, 6.0)]
    cpu1 = [(1.2, 1.4), (2.5, 4.0), (7.0, 8.0)]
    cpu2 = [(0.0, 10.0)]
    assert _together([cpu0, cpu1]) == [(1.2, 1.4), (2.5, 3.0)]
    assert _together([cpu0, cpu1, cpu2]) == [(1.2, 1.4), (2.5, 3.0)]
    assert _together([cpu0, [(6.0, 7.0)]]) == []  # touching is not at once
    assert _together([cpu0]) == cpu0
    assert _together([]) == []


def test_each_gap_gets_the_milliseconds_of_it_the_pauses_cover() -> None:
    paused = [(1.001, 1.003), (1.0045, 1.0055), (2.0, 2.010)]
    gaps = [(1.000, 1.002), (1.002, 1.005), (1.005, 1.006), (1.5, 1.6), (1.995, 2.020)]
    covered = _within(gaps, paused)
    assert covered == pytest.approx([1.0, 1.5, 0.5, 0.0, 10.0])
    assert _within(gaps, []) == [0.0] * len(gaps)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux's")
def test_the_watch_starts_a_watcher_per_cpu_and_stops_them_all() -> None:
    watch = _FreezeWatch()
    watchers = list(watch._watchers)
    assert len(watchers) == len(os.sched_getaffinity(0))
    paused = watch.stop()
    assert all(w.returncode == 0 for w in watchers)
    if watch.why_not:  # real-time scheduling refused (not root): said, and nothing is claimed
        assert paused is None and "not watched" in watch.why_not
    else:
        assert isinstance(paused, list)
        assert all(start < end for start, end in paused)
