"""The project's pipelines, one package each, wired together in ``pipeline_registry.py``.

Node modules import CatBoost, MLflow, scikit-learn, SciPy, matplotlib and pandera inside the
functions that use them, not at the top: Kedro imports every node module on every `kedro`
command, and those imports would cost seconds of each start (tests/test_lazy_mlflow.py holds it).
"""
