"""Benchmarks: `python -m tests.benchmarks [module ...] [--json FILE]`.

Each module in this package defines `run(report)` and calls `report.figure(...)` for every
figure it measures. Benchmarks measure; tests assert. Output, one line per figure:

    BENCH next_document_ms 7.9 ms target <= 16 baseline 61.2 ratio 7.7
"""
