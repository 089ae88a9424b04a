"""kedro-datasets' ``json.JSONDataset`` whose saves replace the file atomically."""

from __future__ import annotations

import json
from typing import Any

from kedro_datasets.json import JSONDataset

from lead_scoring.datasets.atomic_csv_dataset import save_atomically


class AtomicJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose saves go through ``write_atomically``.

    Two scoring runs at once both write the drift report: written in place, the second's
    truncate-and-write could leave the first's tail behind it, or a reader could find half a
    file. Renamed into place, the file is always one run's whole report. Local files only.
    """

    def save(self, data: Any) -> None:
        save_atomically(
            self, "json.JSONDataset", lambda file: json.dump(data, file, **self._save_args)
        )
