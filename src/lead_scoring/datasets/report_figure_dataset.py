"""A matplotlib figure saved as a PNG that loads back as bytes, for the self-contained report."""

from __future__ import annotations

from kedro.io.core import get_filepath_str
from kedro_datasets.matplotlib import MatplotlibDataset


class ReportFigureDataset(MatplotlibDataset):
    """Saves a matplotlib figure like ``MatplotlibDataset``; loads the image file's bytes.

    ``MatplotlibDataset`` cannot load, so a report built from its plots would have to draw them
    again. Loading the saved bytes lets the HTML report embed exactly the image that was logged
    to MLflow, and kedro-viz still previews the plot (a transcoded dataset would lose that).
    """

    def load(self) -> bytes:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, mode="rb") as image_file:
            return image_file.read()
