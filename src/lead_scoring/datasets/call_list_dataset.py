"""The call list: scored leads written chunk by chunk, published sorted by score, best first."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from lead_scoring.datasets.atomic_csv_dataset import write_atomically
from lead_scoring.datasets.streamed_csv_dataset import StreamedCSVDataset
from lead_scoring.datasets.working_folder import (
    close_working_folder,
    open_working_folder,
    remove_stale_working_folders,
)

SCORE = "score"


class CallListDataset(StreamedCSVDataset):
    """Each ``save`` files its rows by score; ``commit`` joins the files from score 99 down.

    A score is a whole number from 1 to 99, so sorting a batch of any size needs one file per
    score, not the batch in memory: memory stays that of one chunk. The project's
    ``StreamedOutputsHook`` commits after a successful run and discards after a failed one.
    """

    def __init__(
        self, *, filepath: str, load_args=None, neutralise_formulas: bool = False, metadata=None
    ) -> None:
        super().__init__(
            filepath=filepath,
            load_args=load_args,
            neutralise_formulas=neutralise_formulas,
            metadata=metadata,
        )
        self._buckets: Path | None = None
        self._columns: list[str] | None = None
        self._held: IO | None = None

    def remove_stale_buckets(self) -> list[Path]:
        """Delete the working folders of runs that were killed (their lock is free); return them."""
        return remove_stale_working_folders(self._filepath, keep=self._buckets)

    def save(self, data: pd.DataFrame) -> None:
        if self._buckets is None:
            self._buckets, self._held = open_working_folder(self._filepath)
            self._columns = list(data.columns)
        ordered = self.spreadsheet_safe(data).sort_values(SCORE, ascending=False, kind="stable")
        for score, rows in ordered.groupby(SCORE, sort=False):
            table = pa.Table.from_pandas(rows[self._columns], preserve_index=False)
            with (self._buckets / f"{int(score):03d}.csv").open("ab") as file:
                pacsv.write_csv(table, file, write_options=pacsv.WriteOptions(include_header=False))

    def commit(self) -> None:
        """Publish the rows of this run, highest score first, replacing the previous list."""
        if self._buckets is None:
            return
        buckets = sorted(self._buckets.glob("*.csv"), reverse=True)

        def write(path: Path) -> None:
            with path.open("w", encoding="utf-8", newline="") as out:
                out.write(pd.DataFrame(columns=self._columns).to_csv(index=False))
            with path.open("ab") as out:
                for bucket in buckets:
                    with bucket.open("rb") as rows:
                        shutil.copyfileobj(rows, out)

        write_atomically(self._filepath, write)
        self.discard()

    def discard(self) -> None:
        """Drop what this run wrote; the previous list stays."""
        close_working_folder(self._buckets, self._held)
        self._buckets, self._held = None, None
