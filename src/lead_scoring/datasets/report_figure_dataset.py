"""A matplotlib figure saved as a PNG that loads back as bytes, for the self-contained report."""

from __future__ import annotations

from typing import Any

import fsspec
from kedro_datasets.matplotlib import MatplotlibDataset


class ReportFigureDataset(MatplotlibDataset):
    """Saves a matplotlib figure like ``MatplotlibDataset``; loads the image file's bytes.

    ``MatplotlibDataset`` cannot load, so a report built from its plots would have to draw them
    again. Loading the saved bytes lets the HTML report embed exactly the image that was logged
    to MLflow, and kedro-viz still previews the plot (a transcoded dataset would lose that).
    Not versioned: the bytes are read from ``filepath`` itself, through fsspec.
    """

    def __init__(self, *, filepath: str, **kwargs: Any) -> None:
        super().__init__(filepath=filepath, **kwargs)
        self._image = filepath

    def load(self) -> bytes:
        with fsspec.open(self._image, mode="rb") as image_file:
            return image_file.read()
