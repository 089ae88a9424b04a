"""One writer per store: PostgreSQL's advisory lock, or a lock file beside a SQLite database.

Both are dropped by the operating system or the server when the process holding them dies,
even by ``kill -9``: a lock found free means no live run holds it.
"""

from __future__ import annotations

import fcntl
import time
import zlib
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from lead_scoring.store.errors import StoreBusyError

# One key per database: the store is the only user of advisory locks in it.
ADVISORY_KEY = zlib.crc32(b"lead_scoring.lead_store")
_POLL_SECONDS = 0.2


class StoreLock:
    """The run lock of the store at ``engine``'s database; ``acquire`` waits at most a timeout."""

    def __init__(self, engine: sa.Engine, describe: str) -> None:
        self.engine = engine
        self.describe = describe
        self._connection: sa.Connection | None = None
        self._handle: IO | None = None
        url = engine.url
        database = url.database
        self.path: Path | None = None
        if url.get_backend_name() == "sqlite" and database and database != ":memory:":
            self.path = Path(f"{database}.lock")

    @property
    def held(self) -> bool:
        return self._connection is not None or self._handle is not None

    def _try(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            got: bool | None = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar_one()
            # A session-level advisory lock outlives transactions; end this one.
            connection.commit()
            if got:
                self._connection = connection
            else:
                connection.close()
            return bool(got)
        if self.path is None:
            return True  # an in-memory database belongs to one process
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def acquire(self, timeout: float) -> None:
        """Hold the lock, waiting at most ``timeout`` seconds for another run to finish."""
        if self.held:
            return
        deadline = time.monotonic() + timeout
        while not self._try():
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"Another run holds the lead store at {self.describe} (waited {timeout:g} s, "
                    "lead_store lock_timeout): this run did nothing; the next one catches up."
                )
            time.sleep(_POLL_SECONDS)

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY}
                )
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
        if self._handle is not None:
            # The lock file stays: removing it would let two runs lock different files.
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
