"""The runner inside the registered model: Kedro's sequential runner, without the narration.

A prediction runs the scoring pipeline through Kedro, which logs every dataset load and save and
every node at INFO: some fifty records for one served lead, and a measurable share of its
latency. While the model predicts, those records are dropped; warnings and errors still pass,
and `kedro run` itself narrates as usual.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from kedro import runner

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


class SequentialRunner(runner.SequentialRunner):
    """Kedro's sequential runner, with its per-dataset INFO records left out of a prediction.

    The name is Kedro's on purpose: kedro-mlflow's model predicts with the runner it was built
    with only when that runner's class name is the one a request asks for, by default
    ``SequentialRunner``; under any other name it would quietly build a plain one.
    """

    def run(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        for name in _NARRATORS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
        token = _PREDICTING.set(True)
        try:
            return super().run(*args, **kwargs)
        finally:
            _PREDICTING.reset(token)
