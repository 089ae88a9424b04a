"""Library warnings a normal run does not need to show, each silenced by its exact message.

`kedro` calls ``on_kedro_start`` (the ``kedro.init`` entry point) before it loads plugins, so
warnings raised while plugins import are covered too; log records follow ``conf/logging.yml``.
"""

from __future__ import annotations

import os
import warnings

# Kedro installs its own warning filters when first imported; ours must come after, in front.
import kedro  # noqa: F401

# (category, start of the message): a library talking to its own developers.
KNOWN_NOISE = [
    # Kedro calls OmegaConf's old resolver API; the pinned OmegaConf says so on every command.
    (UserWarning, r"register_new_resolver\(\) is deprecated"),
    # `kedro run --pipeline=train` is the documented command and keeps working.
    (Warning, r"Option '--pipeline' is deprecated"),
    # kedro-viz uses a FastAPI response class that FastAPI now deprecates.
    (Warning, r"ORJSONResponse is deprecated"),
]


def silence_known_noise() -> None:
    """Ignore the known library warnings above, and only those."""
    # MLflow gives its loggers a handler of its own when imported, past conf/logging.yml.
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    for category, message in KNOWN_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)


def on_kedro_start() -> None:
    """Set the filters, then import kedro-mlflow's model class, which its commands import."""
    silence_known_noise()
    # MLflow checks the class (it has no type hints) inside its own catch_warnings with a "once"
    # filter no filter of ours outranks: record the import's warnings, show all but that note.
    with warnings.catch_warnings(record=True) as caught:
        import kedro_mlflow.mlflow  # noqa: F401
    for warning in caught:
        if "Add type hints to the `predict` method" not in str(warning.message):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
