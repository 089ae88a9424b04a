"""A throwaway PostgreSQL server for tests: the lead store's production database, on a socket.

It starts only where PostgreSQL's server programs and the psycopg driver are installed; tests
that need it skip elsewhere. The cluster lives in a temporary folder and listens on a Unix socket
only, never on a network port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

_SERVER_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((str(d / name) for d in _SERVER_DIRS if (d / name).exists()), None)


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: in a root container it runs as the postgres user.
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def postgres_missing() -> str | None:
    """Why no test server can start here, or None."""
    if not (_program("initdb") and _program("pg_ctl")):
        return "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed"
    if os.geteuid() == 0:
        try:
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return "running as root without a postgres user to run the server"
    return None


class PostgresServer:
    """A server in ``root``; ``new_database()`` gives each test an empty database's URL."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.socket = root / "socket"
        self.user = "postgres" if os.geteuid() == 0 else None

    def start(self) -> None:
        for folder in (self.data.parent, self.socket):
            folder.mkdir(parents=True, exist_ok=True)
            if self.user:
                shutil.chown(folder, self.user)
        self._run([_program("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"])
        self._run(
            [
                _program("pg_ctl"),
                "-D",
                str(self.data),
                # The server's output to a file: on the pipe it would keep this call waiting.
                "-l",
                str(self.data.parent / "server.log"),
                "-o",
                f"-k {self.socket} -c listen_addresses='' -c fsync=off",
                "-w",
                "start",
            ]
        )

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        self._run([_program("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def _run(self, command: list) -> None:
        subprocess.run(
            _as_server_user([str(part) for part in command]),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket}"

    def new_database(self) -> str:
        name = f"lead_store_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


def postgres_server() -> Iterator[PostgresServer]:
    """Body of a session fixture: a started server, stopped at the end; skips where impossible."""
    missing = postgres_missing()
    if missing:
        pytest.skip(f"no PostgreSQL test server: {missing}")
    # Outside pytest's own temporary folders, which only their owner may enter.
    root = Path(tempfile.mkdtemp(prefix="lead-store-postgres-"))
    root.chmod(0o711)
    server = PostgresServer(root)
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
