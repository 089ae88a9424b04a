import logging
import pickle

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner as KedroSequentialRunner
from kedro_mlflow.mlflow import KedroPipelineModel

from lead_scoring.runner import SequentialRunner, run_node, run_plan

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


def _add(left: int, right: int) -> int:
    return left + right


CHAIN = Pipeline(
    [
        Node(_double_and_warn, "value", "doubled", name="double"),
        Node(_add, ["doubled", "value"], "total", name="add"),
    ]
)


def test_each_value_is_dropped_after_the_last_node_that_reads_it():
    plan = run_plan(CHAIN)
    assert [(node.name, set(released)) for node, released in plan] == [
        ("double", set()),
        ("add", {"doubled", "value"}),
    ]


def test_the_model_runner_answers_as_kedros_does_and_survives_pickling():
    catalog = DataCatalog({"value": MemoryDataset(5)})
    ours = SequentialRunner()
    assert ours.run(CHAIN, catalog)["total"].load() == 15
    again = pickle.loads(pickle.dumps(ours))
    assert again.run(CHAIN, DataCatalog({"value": MemoryDataset(1)}))["total"].load() == 3
    theirs = KedroSequentialRunner().run(CHAIN, DataCatalog({"value": MemoryDataset(5)}))
    assert theirs["total"].load() == 15


def test_a_missing_input_is_named():
    with pytest.raises(ValueError, match="'value'"):
        SequentialRunner().run(CHAIN, DataCatalog({}))


def _split(value: int) -> tuple[int, int]:
    return value // 2, value % 2


def _halves(value: int) -> dict[str, int]:
    return {"half": value // 2, "rest": value % 2}


def _fail(value: int) -> int:
    raise ArithmeticError(f"cannot use {value}")


@pytest.mark.parametrize(
    "node",
    [
        Node(_double_and_warn, "value", "doubled", name="one_output"),
        Node(_add, ["value", "other"], "total", name="list_inputs"),
        Node(_add, {"left": "value", "right": "other"}, "total", name="dict_inputs"),
        Node(_split, "value", ["half", "rest"], name="list_outputs"),
        Node(_halves, "value", {"half": "half", "rest": "rest"}, name="dict_outputs"),
    ],
    ids=lambda node: node.name,
)
def test_a_node_answers_as_under_kedros_node_run(node):
    inputs = {"value": 7, "other": 3}
    assert run_node(node, {name: inputs[name] for name in node.inputs}) == node.run(
        {name: inputs[name] for name in node.inputs}
    )


def test_a_failing_node_is_named_in_the_log_and_its_error_raised(caplog):
    with pytest.raises(ArithmeticError, match="cannot use 7"):
        run_node(Node(_fail, "value", "never", name="failing"), {"value": 7})
    assert any("failing" in m and "cannot use 7" in m for m in _messages(caplog))
