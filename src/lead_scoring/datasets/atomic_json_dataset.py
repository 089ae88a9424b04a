"""kedro-datasets' ``json.JSONDataset`` whose saves replace the file atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.json import JSONDataset

from lead_scoring.datasets.atomic_csv_dataset import write_atomically


class AtomicJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose saves go through ``write_atomically``.

    Two scoring runs at once both write the drift report: written in place, the second's
    truncate-and-write could leave the first's tail behind it, or a reader could find half a
    file. Renamed into place, the file is always one run's whole report. Local files only.
    """

    def save(self, data: Any) -> None:
        if self._protocol != "file":
            raise DatasetError(
                f"AtomicJSONDataset writes local files only, not '{self._protocol}' paths: "
                "use json.JSONDataset for an object store."
            )
        save_path = Path(get_filepath_str(self._get_save_path(), self._protocol))

        def write(tmp: Path) -> None:
            with self._fs.open(str(tmp), **self._fs_open_args_save) as file:
                json.dump(data, file, **self._save_args)

        write_atomically(save_path, write)
        self._invalidate_cache()
