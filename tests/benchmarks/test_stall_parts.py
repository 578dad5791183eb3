"""The keying benchmark's breakdown of a GUI stall: garbage collection on the GUI thread, and the
kernel's part of its CPU time, beside its waiting and sleeping."""

from __future__ import annotations

import gc
import threading

import pytest

from tests.benchmarks.bench_keying_ui import _GcClock, _Stall


@pytest.fixture
def no_automatic_collections():
    """Only the collections a test asks for (explicit ones still run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


@pytest.mark.usefixtures("no_automatic_collections")
def test_only_collections_on_the_thread_that_made_the_clock_count_and_none_once_closed() -> None:
    collector = _GcClock()
    try:
        other = threading.Thread(target=gc.collect)
        other.start()
        other.join()
        assert collector.spent_ms == 0.0
        gc.collect()
        spent = collector.spent_ms
        assert spent > 0.0
    finally:
        collector.close()
    gc.collect()
    assert collector.spent_ms == spent


def test_a_stall_names_its_garbage_collection_and_the_kernels_part_of_its_cpu() -> None:
    # CPU time, waiting for a CPU, voluntary switches, kernel CPU (s), page faults
    before = (1.000, 0.500, 7, 0.200, 100)
    after = (1.020, 0.505, 7, 0.215, 400)
    stall = _Stall(29.0, (10.000, 10.030), before, after, "doc 6 city char", gc_ms=4.0)
    assert stall.cpu == pytest.approx(20.0)
    assert stall.kernel == pytest.approx(15.0)
    assert stall.faults == 300
    assert stall.rest == pytest.approx(5.0)  # 30 ms gap less 20 CPU less 5 waiting; never slept
    text = repr(stall)
    assert "cpu 20.0, waiting 5.0, host 5.0" in text
    assert "of it in the kernel 15.0 (300 page faults)" in text
    assert "of it garbage collection 4.0" in text


def test_without_the_threads_own_accounts_a_stall_is_its_cpu_time_alone() -> None:
    stall = _Stall(12.0, (1.0, 1.013), (1.0, None, None, None, None), (1.012, None, None, None, None), "k")
    assert stall.kernel is None and stall.waited is None
    assert repr(stall) == "(12.0, cpu 12.0, 'k')"
