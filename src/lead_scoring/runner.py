"""The runner inside the registered model: the packed scoring pipeline's nodes, called in order.

A prediction runs the scoring pipeline through its runner. Kedro's own sequential runner warms up
every dataset of the catalog, wraps each node in a task with hooks, logs every load, save and node
at INFO, and saves every output into a catalog it then releases: on one served lead that was some
15% of the prediction (6-7 ms of about 40 on a shared 2-core machine), more than CatBoost itself.
The packed model registers no hooks and its datasets all live in memory, so none of that does
anything for a prediction: this runner calls the nodes in Kedro's topological order over a plain
dictionary, loading each free input from the catalog once and dropping each value after its last
reader. A run with hooks, or asked for missing outputs only, goes through Kedro's runner as before.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from kedro import runner
from kedro.io import MemoryDataset
from kedro.pipeline import Node, Pipeline

# The loggers that narrate a run; logger filters are not inherited, so each is named. Kedro's
# runners log under their own module's name, which for this subclass is this module.
_NARRATORS = (
    "kedro.io.data_catalog",
    "kedro.pipeline.node",
    "kedro.runner.sequential_runner",
    __name__,
)
# Per thread and task, so a server answering requests concurrently quiets only its predictions.
_PREDICTING = contextvars.ContextVar("lead_scoring_predicting", default=False)


class _DropNarration(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not _PREDICTING.get()


_FILTER = _DropNarration()
node_logger = logging.getLogger("kedro.pipeline.node")

# A step of a plan: the node, and the values no later node reads once it has run.
_Step = tuple[Node, tuple[str, ...]]


def run_node(node: Node, inputs: dict[str, Any]) -> dict[str, Any]:
    """``node.run(inputs)`` without its narration, for the inputs a plan gathers.

    Kedro's ``Node.run`` formats the node and logs a record on every call, which a prediction's
    filter then drops: 18 us a node, 0.13 ms of a served lead's seven nodes (a loaded 2-core
    machine). The function is called with the inputs in the node's order, and its outputs named
    by Kedro's own code, so a node answers exactly as under ``node.run``.
    """
    if isinstance(node._inputs, dict):
        return node.run(inputs)
    try:
        outputs = node.func(*[inputs[name] for name in node.inputs])
    except Exception as error:
        # As Node.run reports a failure: a served request's log names the node that failed.
        node_logger.error("Node %s failed with error: \n%s", node, error, extra={"markup": False})
        raise
    return node._outputs_to_dictionary(outputs)


def _load(dataset: Any) -> Any:
    """The dataset's data; a memory dataset's without the debug record Kedro formats first.

    Kedro's load wrapper renders the dataset as text on every load, logged or not: 5 against
    0.2 us a load, 60 us of a served lead's 13 (a loaded 2-core machine). The unwrapped load is
    the dataset's own, with its copy mode and its error for data never saved.
    """
    load = type(dataset).load
    if isinstance(dataset, MemoryDataset):
        load = getattr(load, "__wrapped__", load)
    return load(dataset)


def run_plan(pipeline: Pipeline) -> list[_Step]:
    """The pipeline's nodes in Kedro's order, each with the values it is the last to read."""
    nodes = pipeline.nodes
    last_reader: dict[str, int] = {}
    for position, node in enumerate(nodes):
        for name in node.inputs:
            last_reader[name] = position
    outputs = pipeline.outputs()
    done: list[list[str]] = [[] for _ in nodes]
    for name, position in last_reader.items():
        if name not in outputs:
            done[position].append(name)
    return [(node, tuple(names)) for node, names in zip(nodes, done, strict=True)]


class SequentialRunner(runner.SequentialRunner):
    """The packed pipeline's runner: its nodes called in order, without Kedro's per-run machinery.

    The name is Kedro's on purpose: kedro-mlflow's model predicts with the runner it was built
    with only when that runner's class name is the one a request asks for, by default
    ``SequentialRunner``; under any other name it would quietly build a plain one.
    """

    def __init__(self, is_async: bool = False) -> None:
        super().__init__(is_async=is_async)
        self._plans: dict[int, tuple[Pipeline, list[_Step], frozenset[str]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The model pickles its runner: plans are rebuilt where it is loaded.
        return {**self.__dict__, "_plans": {}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        # A runner pickled before plans existed.
        self.__dict__.setdefault("_plans", {})

    def _plan(self, pipeline: Pipeline) -> tuple[Pipeline, list[_Step], frozenset[str]]:
        # The model runs the same pipeline object on every request; planning it costs 0.2 ms,
        # and finding its outputs 18 us.
        found = self._plans.get(id(pipeline))
        if found is None or found[0] is not pipeline:
            plan = (pipeline, run_plan(pipeline), frozenset(pipeline.outputs()))
            found = self._plans[id(pipeline)] = plan
        return found

    def run(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        for name in _NARRATORS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
        token = _PREDICTING.set(True)
        try:
            if only_missing_outputs or (hook_manager is not None and hook_manager.get_plugins()):
                return super().run(pipeline, catalog, hook_manager, run_id, only_missing_outputs)
            return self._run_nodes(pipeline, catalog)
        finally:
            _PREDICTING.reset(token)

    def _run_nodes(self, pipeline: Pipeline, catalog: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        _, steps, outputs = self._plan(pipeline)
        for node, done in steps:
            inputs = {}
            for name in node.inputs:
                if name not in values:
                    if name not in catalog:
                        raise ValueError(
                            f"Pipeline input(s) {{'{name}'}} not found in the "
                            f"{type(catalog).__name__}"
                        )
                    values[name] = _load(catalog[name])
                inputs[name] = values[name]
            values.update(run_node(node, inputs))
            # Kedro's runner releases a value once no node needs it: a batch's chunk is large.
            for name in done:
                values.pop(name, None)
        return {name: MemoryDataset(values[name], copy_mode="assign") for name in outputs}
