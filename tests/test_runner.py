import logging

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from lead_scoring.runner import ScoringRunner

_warnings = logging.getLogger("lead_scoring.tests.runner")


def _double_and_warn(value: int) -> int:
    _warnings.warning("doubling %d", value)
    return 2 * value


def _run(runner) -> int:
    catalog = DataCatalog({"value": MemoryDataset(21)})
    pipeline = Pipeline([Node(_double_and_warn, "value", "doubled", name="double")])
    return runner.run(pipeline, catalog)["doubled"].load()


def test_a_prediction_keeps_kedro_narration_out_of_the_log_but_not_warnings(caplog):
    caplog.set_level(logging.INFO)
    assert _run(ScoringRunner()) == 42
    messages = [record.getMessage() for record in caplog.records]
    assert "doubling 21" in messages
    assert not [m for m in messages if "Loading data from" in m or "Running node" in m]


def test_other_runs_still_narrate(caplog):
    caplog.set_level(logging.INFO)
    _run(ScoringRunner())
    caplog.clear()
    assert _run(SequentialRunner()) == 42
    assert any("Running node" in record.getMessage() for record in caplog.records)
