"""Exports delivered compressed: a gzip file or a one-file zip is read as the CSV it holds.

Told by the file's first bytes, not its name: feeds send gzip named ``.csv`` as often as
``.csv.gz``, and a name says nothing a reader can trust. Other archives are refused in one line
that says what the file is and what to send instead.
"""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lead_scoring.errors import UnreadableExportError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Archives this reader does not open, by their magic bytes: named so the refusal can say which.
OTHER_ARCHIVES = {
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ\x00": "an xz archive",
    b"\x28\xb5\x2f\xfd": "a zstd archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}
# Errors a damaged archive raises while it is being read, not only when it is opened.
ARCHIVE_ERRORS = (EOFError, OSError, zlib.error, zipfile.BadZipFile, RuntimeError)


def compression(path: Path) -> str | None:
    """``gzip`` or ``zip`` when the file's first bytes say it is one, else None (plain text)."""
    with path.open("rb") as f:
        start = f.read(8)
    if start.startswith(GZIP_MAGIC):
        return "gzip"
    if start.startswith(ZIP_MAGICS):
        return "zip"
    for magic, kind in OTHER_ARCHIVES.items():
        if start.startswith(magic):
            raise UnreadableExportError(
                f"Lead export '{path}' is {kind}: only gzip and zip deliveries are read. "
                "Send it as CSV, gzip or a zip holding one CSV. Nothing was read."
            )
    return None


def _zip_member(path: Path, archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The one CSV a zip delivery holds; folders and macOS' ``__MACOSX/`` copies do not count."""
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if len(members) != 1:
        listed = ", ".join(info.filename for info in members[:3]) or "nothing"
        more = f" and {len(members) - 3} more" if len(members) > 3 else ""
        raise UnreadableExportError(
            f"Lead export '{path}' is a zip of {len(members)} files ({listed}{more}): a zip "
            "delivery must hold exactly one CSV. Send one export per zip. Nothing was read."
        )
    return members[0]


def unreadable(path: Path, kind: str, error: BaseException) -> UnreadableExportError:
    """The one-line refusal of an archive that cannot be decompressed."""
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return UnreadableExportError(
        f"Lead export '{path}' is a {kind} archive that cannot be read ({detail}): it is "
        "damaged or cut short. Send it again. Nothing was read."
    )


@contextmanager
def open_export(path: Path) -> Iterator[BinaryIO]:
    """The export's bytes, decompressed when the file is gzip or a zip of one CSV."""
    kind = compression(path)
    if kind is None:
        with path.open("rb") as f:
            yield f
        return
    try:
        if kind == "gzip":
            with gzip.open(path, "rb") as stream:
                yield stream  # type: ignore[misc]
            return
        with (
            zipfile.ZipFile(path) as archive,
            archive.open(_zip_member(path, archive)) as stream,
        ):
            yield stream  # type: ignore[misc]
    except UnreadableExportError:
        raise
    except ARCHIVE_ERRORS as error:
        raise unreadable(path, kind, error) from error


def read_blocks(path: Path, size: int) -> Iterator[bytes]:
    """The export's bytes ``size`` at a time; a damaged archive is refused in one line."""
    with open_export(path) as stream:
        while block := stream.read(size):
            yield block


def read_text(path: Path, encoding: str) -> str:
    """The whole export decoded, for the small files spreadsheets save as UTF-16."""
    with open_export(path) as stream:
        return io.TextIOWrapper(stream, encoding=encoding, newline="").read()


def read_start(path: Path, size: int) -> bytes:
    """The export's first ``size`` bytes after decompression (its byte-order mark, its header)."""
    with open_export(path) as stream:
        return stream.read(size)
