"""Which process opened which file under a directory: a `sitecustomize` that installs a Python
audit hook in every interpreter started with it on PYTHONPATH (the demo, and every process the
demo starts, inherit the environment), recording per pid its command line and each path opened
under the watched directory, by `open()` or `os.open()`, for reading or writing.

C code that opens files itself (LevelDB, gRPC) is not seen; every key file votestore reads or
writes goes through Python's open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

LOG_DIR_ENV: Final = "VOTESTORE_TEST_OPENS_DIR"
ROOT_ENV: Final = "VOTESTORE_TEST_OPENS_ROOT"

SITECUSTOMIZE: Final = """
import os
import sys

_LOG_DIR = os.environ.get("VOTESTORE_TEST_OPENS_DIR")
_ROOT = os.environ.get("VOTESTORE_TEST_OPENS_ROOT")
if _LOG_DIR and _ROOT:
    _ROOT = os.path.realpath(_ROOT)
    _state = {"busy": False, "seen": set(), "headed": set()}

    def _record(pid, text):
        fd = os.open(os.path.join(_LOG_DIR, f"{pid}.opens"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, text.encode("utf-8", "replace"))
        finally:
            os.close(fd)

    def _hook(event, args):
        if event != "open" or _state["busy"]:
            return
        try:
            path = os.fsdecode(os.fspath(args[0]))
        except TypeError:
            return  # a file descriptor
        _state["busy"] = True
        try:
            path = os.path.realpath(path)
            pid = os.getpid()
            if not (path == _ROOT or path.startswith(_ROOT + os.sep)) or (pid, path) in _state["seen"]:
                return
            _state["seen"].add((pid, path))
            if pid not in _state["headed"]:
                _state["headed"].add(pid)
                with open("/proc/self/cmdline", "rb") as handle:
                    argv = handle.read().rstrip(b"\\0").replace(b"\\0", b" ").decode("utf-8", "replace")
                _record(pid, "# " + argv + "\\n")
            _record(pid, path + "\\n")
        finally:
            _state["busy"] = False

    sys.addaudithook(_hook)
"""


@dataclass(frozen=True, slots=True)
class Opener:
    pid: int
    argv: str
    paths: frozenset[Path]


def install(site_dir: Path, log_dir: Path, root: Path) -> dict[str, str]:
    """Write the sitecustomize into `site_dir`; the environment variables that switch it on."""
    site_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(site_dir), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, LOG_DIR_ENV: str(log_dir), ROOT_ENV: str(root)}


def read(log_dir: Path) -> dict[int, Opener]:
    """Every recording process: its pid, command line and the paths it opened."""
    found = {}
    for log in log_dir.glob("*.opens"):
        lines = log.read_text().splitlines()
        argv = next((line[2:] for line in lines if line.startswith("# ")), "")
        paths = frozenset(Path(line) for line in lines if not line.startswith("# "))
        found[int(log.stem)] = Opener(int(log.stem), argv, paths)
    return found
