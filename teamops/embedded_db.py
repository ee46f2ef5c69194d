"""The embedded default: with MONGODB_URI unset, run a local MongoDB-compatible server
(SecantusDB) as a child process, storing under the data dir, and stop it on exit.

SecantusDB is a development dependency (GPL-2.0, pre-release); production sets MONGODB_URI and
never reaches this module.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from teamops.config import ConfigError

log = logging.getLogger("teamops.embedded")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Linux: if this service dies without stopping it (killed outright), the database child is
    # killed too rather than left running and holding the data dir. Committed writes are on disk
    # (--sync-on-commit), so nothing acknowledged is lost.
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start(data_dir: str, timeout: float = 15.0) -> tuple[str, subprocess.Popen]:
    """Start the server; return its URI and process. Raises ConfigError when it cannot run."""
    exe = shutil.which("secantusd-py", path=os.path.dirname(sys.executable)) or shutil.which("secantusd-py")
    if not exe:
        raise ConfigError(
            "MONGODB_URI is not set and the embedded server is not installed: "
            "set MONGODB_URI, or install requirements-dev.txt (make run does)"
        )
    storage = Path(data_dir, "db")
    storage.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    process = subprocess.Popen(
        [exe, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage),
         "--standalone", "--sync-on-commit", "--log-level", "WARNING"],
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(f"the embedded database exited at start (code {process.returncode}); is {storage} in use?")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        raise ConfigError("the embedded database did not start in time")
    atexit.register(stop, process)  # for exits that skip the app's shutdown (start-up errors)
    log.info("MONGODB_URI is not set: started the embedded database (SecantusDB) on 127.0.0.1:%d, data in %s/", port, storage)
    return f"mongodb://127.0.0.1:{port}/?directConnection=true", process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
