import logging

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner as KedroSequentialRunner
from kedro_mlflow.mlflow import KedroPipelineModel

from lead_scoring.runner import SequentialRunner

_warnings = logging.getLogger("lead_scoring.tests.runner")


def _double_and_warn(value: int) -> int:
    _warnings.warning("doubling %d", value)
    return 2 * value


PIPELINE = Pipeline([Node(_double_and_warn, "value", "doubled", name="double")])


def _messages(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_the_model_predicts_without_kedro_narration_but_with_warnings(caplog):
    model = KedroPipelineModel(
        PIPELINE, DataCatalog({"value": MemoryDataset()}), "value", runner=SequentialRunner()
    )
    caplog.set_level(logging.INFO)
    assert model.predict(None, 21) == 42
    assert "doubling 21" in _messages(caplog)
    narration = ("Loading data from", "Running node", "Completed node", "Completed 1 out of")
    assert not [m for m in _messages(caplog) if m.startswith(narration)]


def test_other_runs_still_narrate(caplog):
    caplog.set_level(logging.INFO)
    SequentialRunner().run(PIPELINE, DataCatalog({"value": MemoryDataset(1)}))
    caplog.clear()
    outputs = KedroSequentialRunner().run(PIPELINE, DataCatalog({"value": MemoryDataset(21)}))
    assert outputs["doubled"].load() == 42
    assert any("Running node" in m for m in _messages(caplog))
