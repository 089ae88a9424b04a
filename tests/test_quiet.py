"""What reaches the terminal: the project's lines and unknown warnings, not Kedro's narration."""

from __future__ import annotations

import io
import logging
import logging.config
import warnings

import pytest
import yaml
from kedro_datasets.pandas import SQLQueryDataset

from lead_scoring.quiet import silence_known_noise


@pytest.fixture
def project_logging(project_root, tmp_path):
    """conf/logging.yml applied: what its terminal and its log file received."""
    config = yaml.safe_load((project_root / "conf" / "logging.yml").read_text())
    config["handlers"]["info_file_handler"]["filename"] = str(tmp_path / "info.log")
    terminal = io.StringIO()
    for handler in config["handlers"].values():
        if handler.get("stream") == "ext://sys.stdout":
            handler["stream"] = terminal
    names = ["", *config["loggers"]]
    saved = {
        name: (list(log.handlers), log.level, log.propagate)
        for name in names
        if (log := logging.getLogger(name))
    }
    logging.config.dictConfig(config)
    yield terminal, tmp_path / "info.log"
    for name, (handlers, level, propagate) in saved.items():
        log = logging.getLogger(name)
        for handler in log.handlers:
            handler.close()
        log.handlers, log.level, log.propagate = handlers, level, propagate


def test_kedro_narration_goes_to_the_log_file_and_the_projects_lines_to_the_terminal(
    project_logging,
):
    terminal, log_file = project_logging
    store_query = SQLQueryDataset(sql="SELECT 1", credentials={"con": "sqlite://"})
    assert store_query.exists() is False  # Kedro warns that the query cannot say
    logging.getLogger("kedro.io.data_catalog").info("Loading data from raw_leads (CSVDataset)...")
    logging.getLogger("kedro.runner.sequential_runner").warning(
        "There are 3 nodes that have not run."
    )
    logging.getLogger("lead_scoring.pipelines.training.nodes").info("Holdout: ROC AUC 0.82")
    logging.getLogger("some_library").warning("A notice the project does not know")
    shown = terminal.getvalue()
    assert "Holdout: ROC AUC 0.82" in shown
    assert "A notice the project does not know" in shown
    for narration in ("exists()", "Loading data from", "There are 3 nodes"):
        assert narration not in shown
    for handler in logging.root.handlers:
        handler.flush()
    kept = log_file.read_text()
    assert all(text in kept for text in ("exists()", "Loading data from", "Holdout: ROC AUC"))


def test_only_the_known_library_warnings_are_silenced():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_known_noise()
        warnings.warn("register_new_resolver() is deprecated", UserWarning, stacklevel=1)
        warnings.warn("A warning the project does not know", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["A warning the project does not know"]
