"""Library warnings a normal run does not need to show, each silenced by its exact message.

Log records go where ``conf/logging.yml`` sends them; Python warnings are filtered here, where
they are raised. Each entry names one known, harmless warning of a pinned library; anything
else still shows. `kedro` calls ``on_kedro_start`` first thing (the package's ``kedro.init``
entry point), before it loads plugins, so warnings raised while plugins import are covered too.
"""

from __future__ import annotations

import os
import warnings

# Kedro installs its own warning filters when first imported; ours must come after, in front.
import kedro  # noqa: F401

# (category, start of the message): a library talking to its own developers, not a problem
# with this project's data or code.
KNOWN_NOISE = [
    # Kedro calls OmegaConf's old resolver API; the pinned OmegaConf says so on every command.
    (UserWarning, r"register_new_resolver\(\) is deprecated"),
    # `kedro run --pipeline=train` is the documented command and keeps working.
    (Warning, r"Option '--pipeline' is deprecated"),
    # kedro-viz uses a FastAPI response class that FastAPI now deprecates.
    (Warning, r"ORJSONResponse is deprecated"),
]
# kedro-mlflow's model class has no type hints; MLflow says so when the class is defined.
UNTYPED_MODEL_NOTE = "Add type hints to the `predict` method"


def silence_known_noise() -> None:
    """Ignore the known library warnings above, and only those."""
    # MLflow gives its loggers a handler of its own when imported, past conf/logging.yml.
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    for category, message in KNOWN_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)


def define_kedro_mlflow_model() -> None:
    """Import kedro-mlflow's model class, showing every warning but MLflow's untyped-model note.

    MLflow checks a model class inside its own ``catch_warnings`` with a "once" filter in front,
    which no filter of ours outranks: the import's warnings are recorded instead, and shown
    again but for that note.
    """
    with warnings.catch_warnings(record=True) as caught:
        import kedro_mlflow.mlflow  # noqa: F401
    for warning in caught:
        if UNTYPED_MODEL_NOTE not in str(warning.message):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def on_kedro_start() -> None:
    """Set the filters, and define kedro-mlflow's model class before anything else imports it.

    Called by `kedro` before it loads its plugins: kedro-mlflow's commands import the class.
    """
    silence_known_noise()
    define_kedro_mlflow_model()
