"""CatBoost models in CatBoost's own binary format, so loading a model never unpickles code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catboost import CatBoostClassifier
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.datasets.publish import write_atomically


class StoredCatBoostClassifier(CatBoostClassifier):
    """A fitted model read from its file: it only predicts, so a deep copy may share it.

    kedro-mlflow deep-copies the registered model's catalog on every prediction, and copying a
    CatBoost model re-serialises all of its trees: more work than scoring a served lead.
    """

    def __deepcopy__(self, memo: dict) -> StoredCatBoostClassifier:
        return self


class CatBoostModelDataset(AbstractDataset[CatBoostClassifier, CatBoostClassifier]):
    """Saves and loads a fitted ``CatBoostClassifier`` as a ``.cbm`` file."""

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> StoredCatBoostClassifier:
        model = StoredCatBoostClassifier()
        try:
            model.load_model(str(self._filepath), format="cbm")
        except Exception as error:  # CatBoostError carries no file name
            raise DatasetError(
                f"Cannot read the CatBoost model at '{self._filepath}': {error}. "
                "The file is missing or corrupted; retrain with `kedro run --pipeline=train`."
            ) from error
        return model

    def save(self, data: CatBoostClassifier) -> None:
        write_atomically(self._filepath, lambda tmp: data.save_model(str(tmp), format="cbm"))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
