"""Throwaway PostgreSQL server for the test suite.

Starts a real ``postgres`` on 127.0.0.1 in a temporary data directory, on a free
port, with durability switched off (fsync, synchronous_commit, full_page_writes)
so that it is fast.  PostgreSQL refuses to run as root, so when the tests run as
root (CI) the server binaries are run as the ``postgres`` system user created by
the Debian package, via ``runuser -u postgres --``.

Binaries are looked up in this order:

1. ``$PLANCHER_PG_BIN`` (a directory holding initdb, pg_ctl and postgres);
2. ``pg_config --bindir``, if that directory holds them;
3. the highest ``/usr/lib/postgresql/<major>/bin`` (Debian layout);
4. ``initdb`` found on ``PATH``.

Usage::

    with PostgresServer() as pg:
        url = pg.create_database("plancher_test")
        # -> postgresql+psycopg://postgres@127.0.0.1:PORT/plancher_test
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

__all__ = ["PostgresServer", "PostgresServerError", "find_pg_bin_dir"]

PG_BIN_ENV = "PLANCHER_PG_BIN"
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
SERVER_USER = "postgres"  # the database superuser created by initdb -U
RUN_AS_USER = "postgres"  # system user (Debian package) that runs the server when we are root
HOST = "127.0.0.1"

_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
_PORT_IN_USE = re.compile(r"could not bind|address already in use|could not create lock file", re.I)
_LOG_TAIL_LINES = 40


class PostgresServerError(RuntimeError):
    """The throwaway PostgreSQL server could not be found, started or used."""


# --------------------------------------------------------------------------- binaries


def _has_binaries(directory: str | os.PathLike[str]) -> bool:
    d = Path(directory)
    return all(os.access(d / name, os.X_OK) and (d / name).is_file() for name in REQUIRED_BINARIES)


def _version_key(bin_dir: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/<major>/bin ; majors like "15" or old "9.6"
    version = Path(bin_dir).parent.name
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def find_pg_bin_dir() -> Path:
    """Return the directory holding initdb, pg_ctl and postgres, or raise."""
    needed = ", ".join(REQUIRED_BINARIES)
    looked: list[str] = []

    override = os.environ.get(PG_BIN_ENV)
    if override:
        if _has_binaries(override):
            return Path(override)
        missing = [n for n in REQUIRED_BINARIES if not (Path(override) / n).is_file()]
        raise PostgresServerError(
            f"{PG_BIN_ENV}={override!r} does not hold the PostgreSQL server binaries "
            f"(missing: {', '.join(missing) or 'none, but some are not executable'}; "
            f"needed: {needed})."
        )

    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            if _has_binaries(out):
                return Path(out)
            looked.append(f"{out} (from {pg_config} --bindir)")
    else:
        looked.append("pg_config (not on PATH)")

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for candidate in debian:
        if _has_binaries(candidate):
            return Path(candidate)
    looked.append(", ".join(debian) if debian else "/usr/lib/postgresql/*/bin (none)")

    initdb = shutil.which("initdb")
    if initdb and _has_binaries(os.path.dirname(initdb)):
        return Path(os.path.dirname(initdb))
    looked.append(f"PATH ({'initdb at ' + initdb if initdb else 'no initdb'})")

    raise PostgresServerError(
        f"PostgreSQL server binaries not found (needed: {needed}). Looked in: "
        f"{'; '.join(looked)}. Install the Debian package 'postgresql' "
        f"(apt-get install -y postgresql) or set {PG_BIN_ENV} to the directory holding them."
    )


# --------------------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _child_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGHOST, ...) from the caller must not leak into
    # initdb/pg_ctl; C locale keeps server messages in English (port-clash detection).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    env.pop("LANGUAGE", None)
    return env


def _alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (zombies may linger when PID 1 is slow)."""
    try:
        # Another user's process (PermissionError) exists too; /proc then tells a zombie.
        with contextlib.suppress(PermissionError):
            os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat_text = _read(Path(f"/proc/{pid}/stat"))
    return not stat_text or stat_text.rpartition(")")[2].split()[:1] != ["Z"]


def _traversable_by_others(path: Path) -> bool:
    """True if every ancestor of ``path`` (inclusive) has the o+x bit."""
    p = path.resolve()
    for part in (p, *p.parents):
        try:
            if not os.stat(part).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    if not path.exists():
        return f"<{path} does not exist>"
    return "\n".join(_read(path).splitlines()[-lines:]) or "<empty>"


# --------------------------------------------------------------------------- server


class PostgresServer:
    """A throwaway PostgreSQL server on 127.0.0.1 (context manager or start()/stop())."""

    def __init__(self, *, bin_dir: str | os.PathLike[str] | None = None, startup_timeout: int = 60):
        self._bin_dir_arg = bin_dir
        self.startup_timeout = startup_timeout
        self.bin_dir: Path | None = None
        self.port: int | None = None
        self.root_dir: Path | None = None  # temp dir: data/, run/ (socket + log)
        self._owner_pid: int | None = None
        self._run_as: pwd.struct_passwd | None = None
        self._started = False

    # ---- paths
    @property
    def host(self) -> str:
        return HOST

    @property
    def data_dir(self) -> Path:
        return self._require_root() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_root() / "run"

    @property
    def log_path(self) -> Path:
        return self.socket_dir / "postgres.log"

    @property
    def running(self) -> bool:
        return self._started

    def _require_root(self) -> Path:
        if self.root_dir is None:
            raise PostgresServerError("PostgresServer has not been started")
        return self.root_dir

    # ---- connection strings
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL for ``dbname`` on this server."""
        return f"postgresql+psycopg://{SERVER_USER}@{HOST}:{self._require_port()}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection string, for ``psycopg.connect``."""
        return f"host={HOST} port={self._require_port()} user={SERVER_USER} dbname={dbname}"

    def _require_port(self) -> int:
        if not self._started or self.port is None:
            raise PostgresServerError("PostgresServer is not running")
        return self.port

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy URL."""
        with psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    # ---- lifecycle
    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self.port}" if self._started else "stopped"
        return f"<PostgresServer {state} root={self.root_dir}>"

    def start(self) -> PostgresServer:
        if self._started:
            return self
        self._run_as = self._resolve_run_as()
        self.bin_dir = Path(self._bin_dir_arg) if self._bin_dir_arg else find_pg_bin_dir()
        if not _has_binaries(self.bin_dir):
            raise PostgresServerError(
                f"{self.bin_dir} does not hold {', '.join(REQUIRED_BINARIES)}"
            )
        self._owner_pid = os.getpid()
        atexit.register(self._atexit_stop)
        try:
            self._make_dirs()
            self._initdb()
            self._start_postmaster()
        except BaseException:
            self._cleanup()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its temporary directory."""
        if self._owner_pid is not None and self._owner_pid != os.getpid():
            return  # forked child: the server belongs to the parent
        self._cleanup()

    def pause(self) -> None:
        """Stop the server but keep its data, as a database outage would; `resume()` ends it."""
        proc = self._run(
            [self._bin("pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.data_dir)],
            "pg_ctl stop",
            timeout=60,
        )
        if proc.returncode != 0:
            raise PostgresServerError(f"pg_ctl stop failed: {(proc.stdout + proc.stderr).strip()}")

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        self._start_postmaster(port=self.port)

    # ---- internals
    @staticmethod
    def _resolve_run_as() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            user = pwd.getpwnam(RUN_AS_USER)
        except KeyError:
            raise PostgresServerError(
                f"running as root, but there is no {RUN_AS_USER!r} system user to run PostgreSQL "
                "as (PostgreSQL refuses to run as root). Install the Debian package 'postgresql' "
                "(it creates the user) or run the tests as an unprivileged user."
            ) from None
        if not (shutil.which("runuser") or os.path.exists("/usr/sbin/runuser")):
            raise PostgresServerError("running as root, but 'runuser' (util-linux) is not found")
        return user

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as is None:
            return list(args)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", self._run_as.pw_name, "--", *args]

    def _bin(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def _make_dirs(self) -> None:
        base: str | None = None
        if self._run_as is not None and not _traversable_by_others(Path(tempfile.gettempdir())):
            # e.g. TMPDIR under /root: the postgres user could not reach it
            base = next((d for d in ("/tmp", "/var/tmp") if _traversable_by_others(Path(d))), None)
        root = Path(tempfile.mkdtemp(prefix="plancher-pg-", dir=base))
        self.root_dir = root
        root.chmod(0o755)  # world-traversable so the server user can reach data/ and run/
        for sub in (self.data_dir, self.socket_dir):
            sub.mkdir(mode=0o700)
            sub.chmod(0o700)
            if self._run_as is not None:
                os.chown(sub, self._run_as.pw_uid, self._run_as.pw_gid)

    def _run(self, args: list[str], what: str, timeout: float) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run(
                self._cmd(*args),
                cwd=self._require_root(),
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresServerError(
                f"{what} timed out after {timeout}s: {shlex.join(args)}\n"
                f"server log tail:\n{_tail(self.log_path)}"
            ) from exc
        return proc

    def _initdb(self) -> None:
        args = [
            self._bin("initdb"),
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            SERVER_USER,
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ]
        proc = self._run(args, "initdb", timeout=180)
        if proc.returncode != 0:
            raise PostgresServerError(
                f"initdb failed (exit {proc.returncode}): {shlex.join(self._cmd(*args))}\n"
                f"{proc.stdout[-2000:]}{proc.stderr[-4000:]}"
            )

    def _start_postmaster(self, attempts: int = 3, port: int | None = None) -> None:
        fixed = port
        for attempt in range(1, attempts + 1):
            port = fixed or _free_port()
            opts = [
                "-h",
                HOST,
                "-p",
                str(port),
                "-k",
                shlex.quote(str(self.socket_dir)),
                *(f"-c {k}={v}" for k, v in _SERVER_SETTINGS.items()),
            ]
            args = [
                self._bin("pg_ctl"),
                "start",
                "-w",
                "-t",
                str(self.startup_timeout),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                " ".join(opts),
            ]
            log_before = len(_read(self.log_path))
            proc = self._run(args, "pg_ctl start", timeout=self.startup_timeout + 30)
            if proc.returncode == 0:
                self.port = port
                self._started = True
                return
            self._kill_postmaster()  # in case pg_ctl gave up while the server lingers
            new_log = _read(self.log_path)[log_before:]
            if attempt < attempts and _PORT_IN_USE.search(new_log):
                continue  # someone grabbed the port between probe and bind: retry
            raise PostgresServerError(
                f"PostgreSQL failed to start (pg_ctl exit {proc.returncode}, port {port}).\n"
                f"command: {shlex.join(self._cmd(*args))}\n"
                f"pg_ctl output: {(proc.stdout + proc.stderr).strip()}\n"
                f"server log tail (the temp dir is removed afterwards):\n{_tail(self.log_path)}"
            )

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            return int(first.strip())
        except (OSError, IndexError, ValueError, PostgresServerError):
            return None

    def _kill_postmaster(self) -> None:
        pid = self._postmaster_pid()
        if pid is None:
            return
        # guard against a stale pid file whose pid now belongs to an unrelated process
        cmdline = _read(Path(f"/proc/{pid}/cmdline")) if Path("/proc/self").exists() else ""
        if Path("/proc/self").exists() and str(self.data_dir) not in cmdline:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGQUIT)  # = immediate shutdown
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if not _alive(pid):
                    return
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)

    def _cleanup(self) -> None:
        if self.root_dir is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            ok = False
            with contextlib.suppress(PostgresServerError):
                proc = self._run(
                    [
                        self._bin("pg_ctl"),
                        "stop",
                        "-m",
                        "immediate",
                        "-w",
                        "-D",
                        str(self.data_dir),
                    ],
                    "pg_ctl stop",
                    timeout=60,
                )
                ok = proc.returncode == 0
            if not ok:
                self._kill_postmaster()
        shutil.rmtree(self.root_dir, ignore_errors=True)
        self.root_dir = None
        self.port = None
        self._started = False
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit_stop)

    def _atexit_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
