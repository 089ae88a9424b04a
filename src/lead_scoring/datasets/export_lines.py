"""The one reading path of lead exports: physical lines checked before Arrow parses them.

CSV readers see records, not lines: a stray quote merges several lines into one record of the
right width, a blank line or a repeated header changes the count of rows, and a byte that is not
UTF-8 becomes U+FFFD. The scan here walks the file's physical lines (numpy over byte blocks, so
only the rare odd line costs Python time) and hands Arrow only lines it has accounted for: every
line after the header is a record's line, with its line number, or a rejected line with a reason.

A gzip file or a one-file zip is read as the CSV it holds, told by its first bytes, not its name:
feeds send gzip named ``.csv`` as often as ``.csv.gz``. Other archives are refused in one line
that says what the file is and what to send instead.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
from kedro.io import DatasetError

from lead_scoring.contract import INDEX_COLUMN, LEAD_ID
from lead_scoring.errors import UnreadableExportError

# Blocks of the file scanned at once; a block's masks and counters take about 6 times its size.
SCAN_BLOCK_BYTES = 4 << 20
# One lead is well under 2 KiB; a line this long holds a value pasted whole into a cell. It is
# also Python's csv field limit, which stopped the old reader with a traceback.
MAX_LINE_BYTES = 128 << 10
# Longest quoted value spanning lines that is still read as one record; past it, the quote that
# opened it is taken as stray.
MAX_RECORD_LINES = 20
_NEWLINE, _CR, _QUOTE = 10, 13, 34
_UTF8_BOM = codecs.BOM_UTF8
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
    except ARCHIVE_ERRORS as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UnreadableExportError(
            f"Lead export '{path}' is a {kind} archive that cannot be read ({detail}): it is "
            "damaged or cut short. Send it again. Nothing was read."
        ) from error


def read_header(path: Path) -> tuple[str, str]:
    """The export's encoding (UTF-16 by its byte-order mark, else UTF-8) and its header line."""
    with open_export(path) as stream:
        bom = stream.read(2)
    encoding = "utf-16" if bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    with open_export(path) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        return encoding, text.readline()


class RejectedLine(NamedTuple):
    """A physical line that is no lead's record, and why: a row of ``REJECTED_COLUMNS``."""

    line: int
    lead_id: str | None
    reason: str


class ScannedBlock(NamedTuple):
    """Records of a stretch of the file as UTF-8 CSV text, each with its first line's number."""

    text: bytes
    lines: np.ndarray
    rejected: list[RejectedLine]


class ExportScanner:
    """Scans an export's lines after the header; see the module docstring."""

    def __init__(self, path: Path, encoding: str, delimiter: str, names: list[str]) -> None:
        self.path, self.encoding, self.delimiter = path, encoding, delimiter
        self.width, self._delim = len(names), ord(delimiter)
        stripped = [name.strip() for name in names]
        # A rejected line is named by the lead's id: the explicit id column, else pandas' index.
        self.id_position = (
            stripped.index(LEAD_ID)
            if LEAD_ID in stripped
            else next((i for i, n in enumerate(stripped) if n in ("", INDEX_COLUMN)), None)
        )
        quoted = (f'"{n}"' if delimiter in n or '"' in n else n for n in names)
        self._header_bytes = delimiter.join(quoted).encode("utf-8")
        self.fallback: str | None = None
        self.decoded_lines: list[int] = []

    def blocks(self) -> Iterator[ScannedBlock]:
        """The export as blocks of accepted records and rejected lines, in file order."""
        # A gzip or one-file zip delivery is decompressed as it is read.
        with open_export(self.path) as stream:
            size = SCAN_BLOCK_BYTES
            if self.encoding == "utf-16":
                # Spreadsheets' "Unicode text": small files, transcoded and scanned whole.
                text = io.TextIOWrapper(stream, encoding="utf-16", newline="").read()
                stream, size = io.BytesIO(text.encode()), -1
            header = stream.readline()  # checked by ``read_header``
            # ``carry``: bytes not scanned yet, starting on line ``first_line``: a quoted record
            # that may close in the next block (its ``deferred`` whole lines), then a line the
            # block cut. Blocks end at multiples of ``size`` from the file's start, header and all.
            carry, first_line, deferred = b"", 2, 0
            block = stream.read(-len(header) % size)
            while True:
                following = stream.read(size)
                last = not following
                data = carry + block
                cut = len(data) if last else data.rfind(b"\n", deferred) + 1
                if cut:
                    scanned, rest = self._scan(data[:cut], first_line, last)
                    yield scanned
                    deferred = cut - rest if rest else 0
                    cut = rest or cut
                    first_line += data.count(b"\n", 0, cut)
                carry = data[cut:]
                if last:
                    return
                block = following

    def _lead_id(self, line: bytes) -> str | None:
        if self.id_position is None:
            return None
        fields = line.decode("utf-8", errors="replace").rstrip("\r").split(self.delimiter)
        if len(fields) <= self.id_position:
            return None
        return fields[self.id_position].strip().strip('"') or None

    def _records(self, data: bytes) -> Iterator[list[str]]:
        text = data.decode("utf-8", errors="replace")
        return csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)

    def _width_error(self, number: int, fields: list[str]) -> DatasetError:
        return DatasetError(
            f"Lead export '{self.path}' line {number} has {len(fields)} field(s) where the "
            f"header has {self.width}: '{self.delimiter.join(fields)[:80]}'. Is the row cut "
            "short, or a line break inside an unquoted value? Nothing was read."
        )

    def _scan(self, region: bytes, first_line: int, last: bool) -> tuple[ScannedBlock, int]:
        data = np.frombuffer(region, dtype=np.uint8)
        newlines = np.flatnonzero(data == _NEWLINE)
        ends = newlines
        if not len(newlines) or newlines[-1] != len(data) - 1:
            ends = np.append(newlines, len(data))  # the last line has no line break
        starts = np.empty_like(ends)
        starts[0], starts[1:] = 0, ends[:-1] + 1
        has_cr = (ends > starts) & (data[np.maximum(ends - 1, 0)] == _CR)
        content_ends = ends - has_cr
        lengths = content_ends - starts
        n = len(ends)
        numbers = first_line + np.arange(n)

        def per_line(byte: int) -> np.ndarray:
            # Each line with its line break: lines never overlap nor leave a gap. One sum per
            # line took 30 ms a 4 MiB block; positions and binary searches 108 ms, and a
            # running count over every byte 3 times that.
            return np.add.reduceat(data == byte, starts, dtype=np.int32)

        no_bytes = np.zeros(n, dtype=np.int32)
        quotes = per_line(_QUOTE) if b'"' in region else no_bytes
        delims = per_line(self._delim)
        # Carriage returns inside a line; the one ending it is not a bare one.
        bare_cr = per_line(_CR) - has_cr if b"\r" in region else no_bytes

        kept = np.ones(n, dtype=bool)
        record_start = np.ones(n, dtype=bool)
        replaced: dict[int, bytes] = {}
        rejected: list[RejectedLine] = []

        def text(i: int) -> bytes:
            return region[starts[i] : content_ends[i]]

        def reject(i: int, reason: str) -> None:
            kept[i] = False
            rejected.append(RejectedLine(int(numbers[i]), self._lead_id(text(i)), reason))

        # Stray quotes first: a line with an odd number of quotes opens or closes a quoted value.
        odd = np.flatnonzero(quotes % 2 == 1)
        inside = np.zeros(n, dtype=bool)
        position, rest = 0, 0
        while position < len(odd):
            opening = odd[position]
            closing = odd[position + 1] if position + 1 < len(odd) else None
            if closing is None and not last and opening > 0:
                # The record may close in the next region: read it on from there.
                rest = int(starts[opening])
                kept[opening:] = False
                inside[opening:] = True
                break
            if closing is None or closing - opening >= MAX_RECORD_LINES:
                reject(
                    opening,
                    f'an unmatched quote (") on line {numbers[opening]} is never closed: the '
                    "line's fields cannot be told apart",
                )
                position += 1
                continue
            fields = next(self._records(region[starts[opening] : content_ends[closing]]), [])
            # The signature of a stray quote: every line it swallowed is a whole row on its own.
            # A quoted value that really holds a line break leaves its lines short of a row.
            whole_rows = all(delims[i] + 1 == self.width for i in range(opening, closing + 1))
            if len(fields) != self.width or whole_rows:
                first, final = int(numbers[opening]), int(numbers[closing])
                for i in range(opening, closing + 1):
                    reject(
                        i,
                        f'a stray quote (") on line {first} runs to line {final}, merging '
                        f"{final - first + 1} lines into one record: fix the quote in the export",
                    )
            else:
                # A legitimate quoted line break: one record over several lines.
                record_start[opening + 1 : closing + 1] = False
            inside[opening : closing + 1] = True
            position += 2

        plain = kept & ~inside
        for i in np.flatnonzero(plain & (lengths == 0)).tolist():
            reject(i, "blank line: no lead")
        for i in np.flatnonzero(plain & (lengths > MAX_LINE_BYTES)).tolist():
            reject(
                i,
                f"line is {lengths[i]:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit of one "
                "lead: a value pasted whole into a cell?",
            )
        plain &= kept
        for i in np.flatnonzero(plain & (lengths == len(self._header_bytes))).tolist():
            if text(i).lstrip(_UTF8_BOM) == self._header_bytes:
                reject(i, "the header line, repeated: no lead")
        plain &= kept
        no_quotes = plain & (quotes == 0)
        for i in np.flatnonzero(no_quotes & (bare_cr > 0)).tolist():
            # A bare carriage return ends a row for every CSV reader.
            fields = text(i).split(b"\r")[0].decode("utf-8", errors="replace").split(self.delimiter)
            raise self._width_error(int(numbers[i]), fields)
        for i in np.flatnonzero(no_quotes & (delims + 1 != self.width)).tolist():
            fields = text(i).decode("utf-8", errors="replace").split(self.delimiter)
            raise self._width_error(int(numbers[i]), fields)
        for i in np.flatnonzero(plain & (quotes > 0)).tolist():
            records = list(self._records(text(i)))
            if len(records) != 1 or len(records[0]) != self.width:
                raise self._width_error(int(numbers[i]), records[0] if records else [])

        if not _is_utf8(region):
            bad = [i for i in np.flatnonzero(kept).tolist() if not _is_utf8(text(i))]
            if bad and self.fallback is None:
                self.fallback = _guess_encoding([text(i) for i in bad])
            for i in bad:
                try:
                    # With no encoding detected, UTF-8 fails again and the line is rejected.
                    replaced[i] = text(i).decode(self.fallback or "utf-8").encode("utf-8")
                    self.decoded_lines.append(int(numbers[i]))
                except (UnicodeDecodeError, LookupError):
                    line = text(i)
                    position = next(p for p in range(len(line)) if not _decodes(line[: p + 1]))
                    reject(
                        i,
                        f"byte 0x{line[position]:02x} at position {position + 1} is not UTF-8 "
                        f"nor {self.fallback or 'any encoding detected'}: the line cannot be "
                        "read as text",
                    )
        rejected.sort(key=lambda r: r.line)
        text_kept = _kept_text(region, starts, ends, kept, replaced)
        return ScannedBlock(
            text_kept, numbers[kept & record_start].astype(np.int64), rejected
        ), rest


def _kept_text(
    region: bytes, starts: np.ndarray, ends: np.ndarray, kept: np.ndarray, replaced: dict
) -> bytes:
    """The kept lines of ``region``, each ending in a line break, ``replaced`` ones transcoded."""
    if kept.all() and not replaced:
        return region if region.endswith(b"\n") else region + b"\n"
    # Runs of kept lines are copied whole: the odd line costs Python time, not the rest.
    verbatim = kept.copy()
    verbatim[list(replaced)] = False
    edges = np.flatnonzero(np.diff(np.concatenate([[False], verbatim, [False]])))
    pieces = [
        (int(a), region[starts[a] : ends[b - 1] + 1])
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]
    pieces += [(int(i), line + b"\n") for i, line in replaced.items()]
    text = b"".join(piece for _, piece in sorted(pieces, key=lambda p: p[0]))
    return text if not text or text.endswith(b"\n") else text + b"\n"


def _guess_encoding(samples: list[bytes]) -> str | None:
    """The encoding of lines that are not UTF-8."""
    # Exports that are not UTF-8 come from Windows spreadsheets, as cp1252, in the Western
    # locales this data is written in; charset-normalizer's guess from a few short lines is less
    # sure (it takes 'são' in cp1252 for cp1250, 'său').
    if all(_decodes(sample, "cp1252") for sample in samples):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(b"\n".join(samples)).best()
    return best.encoding if best is not None else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decodes(data: bytes, encoding: str = "utf-8") -> bool:
    """True when ``data`` decodes, or would with more bytes: it is a whole line's prefix."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        return error.reason == "unexpected end of data"
    return True
