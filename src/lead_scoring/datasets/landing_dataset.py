"""The landing folder: each export dropped there is read once, whatever its name."""

from __future__ import annotations

import os
from typing import Any

from kedro_datasets.partitions import IncrementalDataset

CHECKPOINT_FILE = ".ingested.json"


def not_read_yet(partition_id: str, read: list[str]) -> bool:
    """True for a partition the checkpoint does not list."""
    return partition_id not in set(read)


class LandingDataset(IncrementalDataset):
    """kedro-datasets' ``IncrementalDataset`` whose checkpoint lists every file read.

    Its stock checkpoint keeps the last partition id and loads only later ones, so an outcome
    export for an earlier day (``2022-02-15_outcomes.csv`` after ``2022-02-17_leads.csv``) would
    never be read. Here the checkpoint is the list of every file read, saved when the node that
    stores them confirms it.
    """

    def __init__(self, *, path: str, dataset: Any, **kwargs: Any) -> None:
        folder = path if "://" in path else os.path.abspath(path)
        checkpoint = {
            "type": "json.JSONDataset",
            "filepath": f"{folder.rstrip('/')}/{CHECKPOINT_FILE}",
            "comparison_func": not_read_yet,
        }
        super().__init__(path=path, dataset=dataset, checkpoint=checkpoint, **kwargs)

    def confirm(self) -> None:
        """Add the files of this run to those the checkpoint lists."""
        new = [self._path_to_partition(path) for path in self._list_partitions()]
        if new:
            read = self._read_checkpoint() or []
            self._checkpoint.save(sorted({*read, *new}))
