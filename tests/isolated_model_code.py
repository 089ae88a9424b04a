"""Run as a script: import the model's code, or load and score with a registered model, in a
process where the project is absent except for the code the model carries.

    python tests/isolated_model_code.py --code DIR [--import MODULE ...]
    python tests/isolated_model_code.py --model URI --leads PARQUET --scores PARQUET

Any import of Airflow, kedro-mlflow (with --code only: loading a model needs it), the data
generators or the run-experience modules fails. Prints, as JSON, the project modules the process
imported and the file each came from.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import json
import sys
from pathlib import Path

REFUSED = [
    "airflow",
    "kedro_airflow",
    "lead_scoring.airflow_tasks",
    "lead_scoring.local_airflow",
    "lead_scoring.pipelines.generate",
    "lead_scoring.pipelines.generate_daily",
    "lead_scoring.run_summary",
    "lead_scoring.mlflow_ui",
    "lead_scoring.quiet",
    "lead_scoring.hooks",
    "lead_scoring.settings",
    "lead_scoring.pipeline_registry",
    "lead_scoring.tracking_store",
]


class RefuseModules(importlib.abc.MetaPathFinder):
    """Fails the import of the refused modules and everything under them."""

    def __init__(self, refused: list[str]) -> None:
        self.refused = refused

    def find_spec(self, name, path=None, target=None):
        if any(name == refused or name.startswith(refused + ".") for refused in self.refused):
            raise ModuleNotFoundError(f"{name} is absent where the model runs", name=name)
        return None


def project_modules() -> dict[str, str]:
    return {
        name: str(Path(module.__file__).resolve())
        for name, module in sys.modules.items()
        if name.split(".")[0] == "lead_scoring" and getattr(module, "__file__", None)
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, help="a folder holding a lead_scoring package")
    parser.add_argument("--import", dest="modules", nargs="*", default=[])
    parser.add_argument("--model", help="a model URI, its code loaded by MLflow")
    parser.add_argument("--leads", type=Path)
    parser.add_argument("--scores", type=Path)
    args = parser.parse_args()

    # No source checkout, no editable install: only the model's copy of the package is found.
    sys.path = [entry for entry in sys.path if not (Path(entry or ".") / "lead_scoring").exists()]
    refused = REFUSED if args.model else [*REFUSED, "kedro_mlflow"]
    sys.meta_path.insert(0, RefuseModules(refused))

    if args.code:
        sys.path.insert(0, str(args.code))
        for module in args.modules:
            importlib.import_module(module)
    if args.model:
        import mlflow
        import pandas as pd

        model = mlflow.pyfunc.load_model(args.model)
        answers = model.predict(pd.read_parquet(args.leads))
        # Parquet keeps a frame's attrs as JSON: the answer's hold arrays for drift monitoring.
        answers.attrs.clear()
        answers.to_parquet(args.scores)
    print(json.dumps(project_modules()))


if __name__ == "__main__":
    main()
