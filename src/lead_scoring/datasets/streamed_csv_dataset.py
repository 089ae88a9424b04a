"""CSVs written chunk by chunk during a run and published whole, atomically, when it succeeds.

Both datasets here are ``publish.Publishable``: readers see the previous file until the run ends.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from kedro.io import AbstractDataset

from lead_scoring.datasets.publish import Staged
from lead_scoring.datasets.spreadsheet_cells import neutralise_formulas

SCORE = "score"


def _append(data: pd.DataFrame, path: Path, header: bool) -> None:
    # Arrow's writer is several times faster than pandas' on a million scored leads.
    table = pa.Table.from_pandas(data, preserve_index=False)
    with path.open("ab") as file:
        pacsv.write_csv(table, file, write_options=pacsv.WriteOptions(include_header=header))


class StreamedCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Each ``save`` appends a chunk to a staged sibling file; ``commit`` puts it in place.

    ``neutralise_formulas: true`` (for a file a person opens in a spreadsheet) quotes every text
    cell a spreadsheet would run as a formula: see ``spreadsheet_cells``.
    """

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        neutralise_formulas: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._load_args = load_args or {}
        self._neutralise_formulas = neutralise_formulas
        self._staged: Staged | None = None
        self.metadata = metadata

    def spreadsheet_safe(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data`` as this file writes it: formulas quoted as text when the file asks for it."""
        return neutralise_formulas(data) if self._neutralise_formulas else data

    def save(self, data: pd.DataFrame) -> None:
        first = self._staged is None
        if self._staged is None:
            self._staged = Staged(self._filepath)
        _append(self.spreadsheet_safe(data), self._staged.path, header=first)

    def commit(self) -> None:
        """Publish what this run wrote, replacing the previous file in one step."""
        if self._staged is not None:
            self._staged.publish()
        self._staged = None

    def discard(self) -> None:
        """Drop what a failed run wrote; the previous file stays."""
        if self._staged is not None:
            self._staged.discard()
        self._staged = None

    def load(self) -> pd.DataFrame:
        return pd.read_csv(self._filepath, **self._load_args)

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "neutralise_formulas": self._neutralise_formulas}


class CallListDataset(StreamedCSVDataset):
    """The call list: each ``save`` files its rows by score; ``commit`` joins the files from
    score 99 down, so the list is published sorted, best first.

    A score is a whole number from 1 to 99, so sorting a batch of any size needs one file per
    score in a staged folder, not the batch in memory: memory stays that of one chunk.
    """

    _columns: list[str]

    def save(self, data: pd.DataFrame) -> None:
        if self._staged is None:
            self._staged = Staged(self._filepath, folder=True)
            self._columns = list(data.columns)
        ordered = self.spreadsheet_safe(data).sort_values(SCORE, ascending=False, kind="stable")
        for score, rows in ordered.groupby(SCORE, sort=False):
            _append(rows[self._columns], self._staged.path / f"{int(score):03d}.csv", header=False)

    def commit(self) -> None:
        """Publish the rows of this run, highest score first, replacing the previous list."""
        if self._staged is None:
            return
        joined = self._staged.path / "call_list"
        with joined.open("wb") as out:
            out.write(pd.DataFrame(columns=self._columns).to_csv(index=False).encode("utf-8"))
            for bucket in sorted(self._staged.path.glob("*.csv"), reverse=True):
                with bucket.open("rb") as rows:
                    shutil.copyfileobj(rows, out)
        self._staged.publish(joined)
        self._staged = None
