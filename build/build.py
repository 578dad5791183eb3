"""Build the one-dir desktop bundle: `python build/build.py [--self-test] [--installer]`.

PyInstaller's work folder is build/_work (ignored by git); the bundle lands in dist/workstation/.
On Windows the version resource is generated from build/version_info.txt.in first, and
`--installer` then compiles build/installer.iss with Inno Setup into
dist/KeyingWorkstation-<version>-setup.exe.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "_work"
DIST = ROOT / "dist"
IS_WINDOWS = sys.platform == "win32"


def version() -> str:
    """The package version, read from the source (the build must not import the package)."""
    text = (ROOT / "workstation" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if not match:
        raise SystemExit("workstation/__init__.py has no __version__")
    return match[1]


def version_resource(ver: str) -> str:
    """build/version_info.txt.in filled in: the Windows file and product version of the .exe."""
    major, minor, patch = (list(map(int, re.findall(r"\d+", ver))) + [0, 0, 0])[:3]
    template = (ROOT / "build" / "version_info.txt.in").read_text(encoding="utf-8")
    body = "\n".join(line for line in template.splitlines() if not line.startswith("#"))
    return body.format(major=major, minor=minor, patch=patch, version=ver)


def write_version_resource(ver: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / "version_info.txt"
    out.write_text(version_resource(ver), encoding="utf-8")
    return out


def bundle_dir() -> Path:
    return DIST / "workstation"


def executable() -> Path:
    """The desktop application (windowed on Windows)."""
    return bundle_dir() / ("workstation.exe" if IS_WINDOWS else "workstation")


def console_executable() -> Path:
    """The executable for commands and --self-test: a windowed one has no console to print to."""
    return bundle_dir() / ("workstation-cli.exe" if IS_WINDOWS else "workstation")


def bundle_size_mb() -> float:
    """Size of the one-dir folder; symlinks (Qt's library aliases) are not counted twice."""
    return sum(f.lstat().st_size for f in bundle_dir().rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def build() -> Path:
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
    """Run the frozen self-test in a throw-away workspace, so a build machine keeps no traces."""
    with tempfile.TemporaryDirectory(prefix="ws-selftest-") as workspace:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKSTATION_DATA_DIR=workspace)
        env.pop("WORKSTATION_CENTRAL_URL", None)
        started = time.perf_counter()
        result = subprocess.run([str(exe), "--self-test"], env=env)
        print(f"frozen self-test: exit {result.returncode} in {time.perf_counter() - started:.2f} s", flush=True)
    return result.returncode


def inno_setup_compiler() -> Path:
    found = shutil.which("iscc")
    candidates = [Path(found)] if found else []
    for base in (os.environ.get("ProgramFiles(x86)"), os.environ.get("ProgramFiles")):
        if base:
            candidates.append(Path(base) / "Inno Setup 6" / "ISCC.exe")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SystemExit("Inno Setup 6 (ISCC.exe) was not found; install it from https://jrsoftware.org/isinfo.php")


def installer() -> Path:
    ver = version()
    subprocess.run([str(inno_setup_compiler()), f"/DAppVersion={ver}", str(ROOT / "build" / "installer.iss")],
                   check=True, cwd=ROOT)
    return DIST / f"KeyingWorkstation-{ver}-setup.exe"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-test", action="store_true", help="run the frozen --self-test after building")
    parser.add_argument("--skip-build", action="store_true", help="use the bundle already in dist/workstation")
    parser.add_argument("--installer", action="store_true", help="then make the Windows installer (Inno Setup 6)")
    args = parser.parse_args()
    if args.installer and not IS_WINDOWS:
        parser.error("the installer is built on Windows only")
    if not args.skip_build:
        build()
    elif not executable().exists():
        parser.error(f"there is no bundle in {bundle_dir()}; build it first")
    print(f"bundle: {bundle_dir()} ({bundle_size_mb():.0f} MB)", flush=True)
    if args.self_test and self_test(console_executable()) != 0:
        return 1
    if args.installer:
        print(f"installer: {installer()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
