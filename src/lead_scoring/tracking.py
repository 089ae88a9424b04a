"""Shapes shared by nodes that hand numbers to MLflow."""


def as_mlflow_metrics(values: dict) -> dict[str, dict[str, float]]:
    """Numbers in the form kedro-mlflow's metrics datasets log, one step each."""
    return {name: {"value": float(value), "step": 0} for name, value in values.items()}
