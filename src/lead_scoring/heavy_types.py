"""The classes of heavy libraries that node signatures name, without importing those libraries.

Kedro resolves the type hints of every registered node when a run starts (to validate typed
parameters), so the names a node's annotations use must exist at run time; importing CatBoost,
matplotlib and MLflow for that would cost seconds of every run, `ingest` with nothing new
included. At run time these names are ``Any``, which Kedro's validation passes over as it
passes over the classes themselves; type checkers see the classes.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catboost import CatBoostClassifier
    from matplotlib.figure import Figure
    from mlflow.pyfunc import PyFuncModel
else:
    CatBoostClassifier = Figure = PyFuncModel = Any

__all__ = ["CatBoostClassifier", "Figure", "PyFuncModel"]
