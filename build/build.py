"""Build the one-dir desktop bundle: `python build/build.py [--self-test]`.

PyInstaller's work folder is build/_work (ignored by git); the bundle lands in dist/workstation/.
On Windows the version resource is generated from build/version_info.txt.in and the Inno Setup
script build/installer.iss can then make the installer (`iscc build/installer.iss`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "_work"
DIST = ROOT / "dist"


def version() -> str:
    text = (ROOT / "workstation" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if not match:
        raise SystemExit("workstation/__init__.py has no __version__")
    return match[1]


def write_version_resource(ver: str) -> Path:
    major, minor, patch = (list(map(int, re.findall(r"\d+", ver))) + [0, 0, 0])[:3]
    template = (ROOT / "build" / "version_info.txt.in").read_text(encoding="utf-8")
    body = "\n".join(line for line in template.splitlines() if not line.startswith("#"))
    out = WORK / "version_info.txt"
    out.write_text(body.format(major=major, minor=minor, patch=patch, version=ver), encoding="utf-8")
    return out


def bundle_dir() -> Path:
    return DIST / "workstation"


def executable() -> Path:
    return bundle_dir() / ("workstation.exe" if sys.platform == "win32" else "workstation")


def bundle_size_mb() -> float:
    """Size of the one-dir folder; symlinks (Qt's library aliases) are not counted twice."""
    return sum(f.lstat().st_size for f in bundle_dir().rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def build() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    write_version_resource(version())
    if bundle_dir().exists():
        shutil.rmtree(bundle_dir())
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--workpath", str(WORK), "--distpath", str(DIST), str(ROOT / "workstation.spec")],
        check=True, cwd=ROOT,
    )
    return executable()


def self_test(exe: Path) -> int:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.perf_counter()
    result = subprocess.run([str(exe), "--self-test"], env=env)
    print(f"frozen self-test: exit {result.returncode} in {time.perf_counter() - started:.2f} s")
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--self-test", action="store_true", help="run the frozen --self-test after building")
    parser.add_argument("--skip-build", action="store_true", help="only run the self-test of an existing bundle")
    args = parser.parse_args()
    exe = executable() if args.skip_build else build()
    size = bundle_size_mb()
    print(f"bundle: {bundle_dir()} ({size:.0f} MB)")
    return self_test(exe) if args.self_test else 0


if __name__ == "__main__":
    sys.exit(main())
