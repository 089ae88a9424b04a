"""kedro-datasets' CSV and JSON datasets whose saves replace the file atomically."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import DatasetError
from kedro.io.core import get_protocol_and_path
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset

from lead_scoring.datasets.publish import write_atomically
from lead_scoring.datasets.spreadsheet_cells import neutralise_formulas


class _SavedAtomically:
    """Loads as the kedro-datasets class it extends; saves with that class to a staged sibling
    published over the file (``publish.write_atomically``).

    Local files only, and not versioned: a rename is atomic within one filesystem, not across an
    object store, and a versioned dataset writes a new file each time, which needs no rename.
    """

    plain: type[Any]

    def __init__(self, *, filepath: str, **kwargs: Any) -> None:
        if kwargs.get("version") is not None:
            raise DatasetError(
                f"{type(self).__name__} '{filepath}' is not versioned: its saves replace one "
                f"file. Use {self.plain.__name__} for a versioned dataset."
            )
        super().__init__(filepath=filepath, **kwargs)  # type: ignore[call-arg]
        self._protocol_and_path = get_protocol_and_path(str(filepath))
        self._arguments = kwargs  # "version", if given, is None

    def save(self, data: Any) -> None:
        protocol, path = self._protocol_and_path
        if protocol != "file":
            raise DatasetError(
                f"{type(self).__name__} writes local files only, not '{protocol}' paths: use "
                f"{self.plain.__name__} for an object store."
            )
        write_atomically(
            Path(path),
            lambda staged: self.plain(filepath=str(staged), **self._arguments).save(data),
        )


class AtomicCSVDataset(_SavedAtomically, CSVDataset):
    """``pandas.CSVDataset`` whose saves replace the file atomically (see ``_SavedAtomically``).

    ``neutralise_formulas: true`` (for a file a person opens in a spreadsheet) quotes every text
    cell a spreadsheet would run as a formula: see ``spreadsheet_cells``.
    """

    plain = CSVDataset

    def __init__(self, *, neutralise_formulas: bool = False, **kwargs: Any) -> None:
        if neutralise_formulas:
            # Every text cell in quotes, as OWASP advises: pandas leaves a cell holding a bare
            # carriage return unquoted, and a spreadsheet starts a new row, a formula, there.
            kwargs["save_args"] = {
                "quoting": csv.QUOTE_NONNUMERIC,
                **(kwargs.get("save_args") or {}),
            }
        super().__init__(**kwargs)
        self._neutralise_formulas = neutralise_formulas

    def save(self, data: pd.DataFrame) -> None:
        super().save(neutralise_formulas(data) if self._neutralise_formulas else data)


class AtomicJSONDataset(_SavedAtomically, JSONDataset):
    """``json.JSONDataset`` whose saves replace the file atomically: two scoring runs writing the
    drift report at once leave one run's whole report, never the tail of the other's."""

    plain = JSONDataset
