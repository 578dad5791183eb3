"""The desktop bundle: how fast it starts and how big it is.

* frozen_start_s: wall time of `dist/workstation/workstation --self-test` (on Windows
  workstation-cli.exe, the console twin of the windowed executable; every check of the
  installation: imports, resources, templates, G4 and PDF decode, a saved field, the Alembic
  migrations, libpq, argon2, Qt offscreen, the ui modules, keyring), from process start to exit.
  Median of RUNS runs after one untimed warm-up (extra: `first`, the warm-up's time).
* bundle_mb: size of the one-dir folder dist/workstation (regular files; the symlinks
  PyInstaller makes for Qt's libraries are not counted twice), in 10^6 bytes.
* startup_to_login_ms: from starting `python -m workstation.cli` from source (the desktop
  application, a workspace of its own) until the login dialog has painted its first frame;
  `WORKSTATION_EXIT_AT_LOGIN=1` (ui/startprobe.py) makes the application print a line at that
  moment and exit. Median of RUNS runs after one warm-up.
* frozen_start_to_login_ms (no target): the same for the frozen executable, what a keyer waits.

The bundle is built first (build/build.py, about a minute) when dist/workstation is missing or
older than the sources, so the figures always describe the code as it is.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.benchmarks.__main__ import Report

ROOT = Path(__file__).resolve().parents[2]


def _load_build_script():  # type: ignore[no-untyped-def]
    """build/build.py, which knows where the bundle is and how to make it (not a package)."""
    spec = importlib.util.spec_from_file_location("workstation_build_script", ROOT / "build" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle = _load_build_script()

RUNS = 5
MARKER = "login dialog shown"
SOURCES = ("workstation", "ui", "resources", "build", "workstation.spec", "pyproject.toml")


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else path.rglob("*")
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and "_work" not in file.parts:
                newest = max(newest, file.stat().st_mtime)
    return newest


def _ensure_bundle() -> float | None:
    """Build when needed; the build's wall time, or None when the bundle was up to date."""
    exe = bundle.executable()
    if exe.exists() and exe.stat().st_mtime >= _newest_source():
        return None
    try:
        import PyInstaller  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("bench_build needs PyInstaller to build the bundle: pip install '.[build]'") from exc
    print("# bench_build: building the bundle (dist/workstation is missing or older than the sources)", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "build" / "build.py")], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _env(workdir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKSTATION_DATA_DIR=str(workdir), **extra)
    env.pop("WORKSTATION_CENTRAL_URL", None)
    return env


def _self_test_s(exe: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([str(exe), "--self-test"], env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"the frozen self-test failed:\n{result.stdout}{result.stderr}")
    return elapsed


def _to_login_ms(command: list[str], env: dict[str, str]) -> float:
    """Start the application and wait for the probe's line; the time from start to the line."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == MARKER:
                elapsed = (time.perf_counter() - started) * 1000
                break
        else:
            raise RuntimeError(f"the login dialog was never shown: {process.stderr.read() if process.stderr else ''}")
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return elapsed


def _median_after_warmup(measure: Callable[[], float], runs: int = RUNS) -> tuple[float, float]:
    first = measure()
    return statistics.median(measure() for _ in range(runs)), first


def run(report: Report) -> None:
    built_in = _ensure_bundle()
    exe, cli = bundle.executable(), bundle.console_executable()
    extra = {"built_in_s": round(built_in, 1)} if built_in is not None else {}
    report.figure("bundle_mb", bundle.bundle_size_mb(), "MB", target="<= 150", platform=sys.platform, **extra)

    env = _env(report.workdir / "frozen")
    median, first = _median_after_warmup(lambda: _self_test_s(cli, env))
    report.figure("frozen_start_s", median, "s", target="<= 1.5", first=round(first, 2), runs=RUNS)

    source_env = _env(report.workdir / "source", WORKSTATION_EXIT_AT_LOGIN="1")
    median, first = _median_after_warmup(lambda: _to_login_ms([sys.executable, "-m", "workstation.cli"], source_env))
    report.figure("startup_to_login_ms", median, "ms", target="<= 1000", first=round(first), runs=RUNS)

    frozen_env = _env(report.workdir / "frozen-login", WORKSTATION_EXIT_AT_LOGIN="1")
    median, first = _median_after_warmup(lambda: _to_login_ms([str(exe)], frozen_env))
    report.figure("frozen_start_to_login_ms", median, "ms", first=round(first), runs=RUNS)
