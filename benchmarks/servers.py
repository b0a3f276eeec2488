"""A server process on a free loopback port, for the benchmarks that load one over HTTP."""

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CHECKOUT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(
    command: list[str], env: dict[str, str], ready: str = "/healthz"
) -> Iterator[tuple[str, int]]:
    """`command` with a free port appended, started with `env` added to this environment and
    waited for until `ready` answers; yields its base URL and pid, and stops it after.

    The server imports the code of this benchmark's checkout (first on its `PYTHONPATH`), not
    that of whichever checkout the virtual environment's editable install points to: a
    worktree measured with another checkout's `.venv` would otherwise serve the other code."""
    port = free_port()
    paths = [str(CHECKOUT), *filter(None, [os.environ.get("PYTHONPATH")])]
    process = subprocess.Popen(
        [*command, str(port)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}{ready}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{command[0]} did not start")
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
