"""The model's answers for an export, kept a chunk at a time on disk while a run reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
from kedro.io import AbstractDataset

from lead_scoring.datasets.publish import Staged

ROW = "row"
# Column prefixes of a chunk's rows beyond the model's answer: the export's own fields that
# follow a lead, and the model input of a scored lead (features, then its own category levels).
EXPORT_PREFIX = "export."
MODEL_INPUT_PREFIX = "input."
LEVEL_PREFIX = "level."


class ScoredChunk(NamedTuple):
    """One chunk of an export as scored: a row per lead, and the lines that held no lead."""

    rows: pd.DataFrame
    rejected: pd.DataFrame


class ScoredChunks:
    """The chunks of one run, read back in order, each with only the columns asked for."""

    def __init__(self, folder: Path | None) -> None:
        self._files = sorted(folder.glob("*.rows.arrow")) if folder is not None else []

    def read(self, columns: Callable[[str], bool] | None = None) -> Iterator[ScoredChunk]:
        """Each chunk in turn with the columns ``columns`` keeps, indexed by position in the export."""
        for path in self._files:
            table = feather.read_table(path, memory_map=True)
            if columns is not None:
                # The row column comes first, as ``save`` writes it.
                table = table.select([ROW, *(c for c in table.column_names[1:] if columns(c))])
            rows = table.to_pandas().set_index(ROW)
            rows.index.name = None
            rejected = feather.read_table(path.with_name(path.name.replace(".rows.", ".rejected.")))
            yield ScoredChunk(rows, rejected.to_pandas())


class ScoredChunksDataset(AbstractDataset[ScoredChunk, ScoredChunks]):
    """Each ``save`` writes a chunk to this run's staged folder; ``load`` reads them lazily.

    The nodes after batch scoring read the chunks one at a time, so memory stays that of one
    chunk however long the export. Arrow files: written once, read back column by column.
    The folder is a ``publish.Staged`` one, never published: it goes when the run has read it
    (``release``) or ends, and a killed run's folder goes at the next run's first save.

    Not kedro-datasets' ``PartitionedDataset``: it writes partitions straight into one fixed
    folder, so two runs at once would read each other's chunks, and a killed run's chunks would
    be read by the next run as its own; each chunk here is also two tables (rows, rejected lines).
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self._staged: Staged | None = None
        self._saved = 0
        self.metadata = metadata

    def save(self, data: ScoredChunk) -> None:
        if self._staged is None:
            self._staged = Staged(self._filepath, folder=True)
        stem = self._staged.path / f"{self._saved:06d}"
        rows = data.rows.rename_axis(ROW).reset_index()
        for part, frame in (("rows", rows), ("rejected", data.rejected)):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            feather.write_feather(table, f"{stem}.{part}.arrow", compression="uncompressed")
        self._saved += 1

    def load(self) -> ScoredChunks:
        return ScoredChunks(self._staged.path if self._staged is not None else None)

    def _exists(self) -> bool:
        return self._staged is not None

    def discard(self) -> None:
        """Delete the chunks: they are the run's scratch, never published."""
        if self._staged is not None:
            self._staged.discard()
        self._staged, self._saved = None, 0

    commit = _release = discard

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
