"""Library warnings a normal run does not need to show, each silenced by its exact message.

Each entry names one known, harmless warning of a pinned library; anything else still shows.
`kedro` calls ``on_kedro_start`` first thing (the package's ``kedro.init`` entry point), before
it loads plugins, so even warnings raised while plugins import are covered; `kedro run` applies
the filters again in case a library reset them.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings

# Kedro installs its own warning filters when first imported; ours must come after, in front.
import kedro  # noqa: F401

# (category, start of the message): a library talking to its own developers, not a problem
# with this project's data or code.
KNOWN_NOISE = [
    # Kedro calls OmegaConf's old resolver API; the pinned OmegaConf says so on every command.
    (UserWarning, r"register_new_resolver\(\) is deprecated"),
    # kedro-mlflow's model class has no type hints; MLflow says so when the class is defined.
    (UserWarning, r"\W*(\[\d+m)?Add type hints to the `predict` method"),
    # `kedro run --pipeline=train` is the documented command and keeps working.
    (Warning, r"Option '--pipeline' is deprecated"),
    # kedro-viz uses a FastAPI response class that FastAPI now deprecates.
    (Warning, r"ORJSONResponse is deprecated"),
]

# (logger, start of the message): library log records that say nothing a user can act on.
KNOWN_LOG_NOISE = [
    # kedro-mlflow logs the scoring pipeline as a Python object by design (the served model
    # carries the project's code); MLflow warns about pickling on every train run.
    ("mlflow.pyfunc", "Passing a Python object as `python_model`"),
    # When a run fails, Kedro works out a `--from-nodes` resume hint. Resuming cannot register
    # a model or publish streamed outputs, so the hint misleads; and working it out makes
    # kedro-mlflow warn once per pipeline method it calls (21 times for a failed train).
    ("kedro.runner.sequential_runner", "There are "),
    ("kedro.runner.sequential_runner", "No nodes ran. Repeat the previous command"),
    ("kedro_mlflow.pipeline.pipeline_ml", "BEWARE - This 'Pipeline' is no longer a 'PipelineML'"),
    # After a train run kedro-mlflow asks every dataset whether it exists (to resolve dataset
    # factories); the lead store's SQL query cannot say, and Kedro warns (train_from_store).
    ("kedro.io.core", "'exists()' not implemented for "),
]


class _DropKnownRecords(logging.Filter):
    def __init__(self, starts: list[str]) -> None:
        super().__init__()
        self._starts = tuple(starts)

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self._starts)


def silence_known_noise() -> None:
    """Hide the known library warnings and log records above, and only those."""
    for category, message in KNOWN_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)
    for name in {name for name, _ in KNOWN_LOG_NOISE}:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropKnownRecords) for f in logger.filters):
            logger.addFilter(
                _DropKnownRecords([start for known, start in KNOWN_LOG_NOISE if known == name])
            )


def _is_known_noise(message: Warning | str, category: type[Warning]) -> bool:
    return any(
        issubclass(category, known) and re.match(pattern, str(message), re.IGNORECASE)
        for known, pattern in KNOWN_NOISE
    )


@contextlib.contextmanager
def _known_noise_dropped():
    """Drop known warnings even where a library forces its own filter around them.

    MLflow checks a model class inside its own `catch_warnings` with a "once" filter in
    front, which no filter of ours can outrank; the display step is the one place left.
    """
    show = warnings.showwarning

    def show_unless_known(message, category, filename, lineno, file=None, line=None):
        if not _is_known_noise(message, category):
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = show_unless_known
    try:
        yield
    finally:
        warnings.showwarning = show


def on_kedro_start() -> None:
    """Set the filters, and define kedro-mlflow's model class before anything else imports it.

    Called by `kedro` before it loads its plugins: kedro-mlflow's commands import the class.
    """
    silence_known_noise()
    import_kedro_mlflow_quietly()


def import_kedro_mlflow_quietly() -> None:
    """Import kedro-mlflow's model class with its known warning dropped.

    Not on the package's import: it imports MLflow (some 2 s), which a run that uses no MLflow
    never needs. In a notebook, lazy_mlflow calls this when it starts kedro-mlflow's hook.
    """
    with _known_noise_dropped():
        import kedro_mlflow.mlflow  # noqa: F401
