"""Faults: runs killed halfway, two scoring runs at once, a tracking server that is down, and
model artifacts that are corrupted or missing. Nothing earlier may be lost or left half-written.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lead_scoring.cli import _explained_cause
from lead_scoring.datasets import AtomicCSVDataset, CatBoostModelDataset
from lead_scoring.datasets.publish import write_atomically
from lead_scoring.pipelines.batch_scoring.nodes import find_model_version, load_scoring_model
from lead_scoring.pipelines.monitoring.nodes import HISTORY_COLUMNS
from tests.reliability.conftest import (
    INDEX,
    LABEL,
    KedroProcess,
    after_change,
    changed_files,
    closed_port,
    error_lines,
    isolated_copy,
    load_export,
    load_model,
    model_directory,
    read_cells,
    run_together,
    score,
    snapshot,
    tracking_store,
    tracking_uri,
    write_export,
)

SCORED = "07_model_output/scored_leads.csv"
QUARANTINE = "07_model_output/quarantined_leads.csv"
HISTORY = "08_reporting/drift_history.csv"
COUNTS = re.compile(r"(\d+) read, (\d+) scored, (\d+) quarantined")
BATCH = 600
BROKEN_EVERY = 20  # every 20th lead of the second batch is invalid
EARLIER_HISTORY = (
    ",".join(HISTORY_COLUMNS) + "\n2022-01-01T00:00:00+00:00,1,score,numeric,0.01,stable,,900\n"
)


def plant_earlier_scoring_outputs(data: Path) -> None:
    """Outputs of an earlier scoring run, which a failed or racing run must not corrupt."""
    (data / "07_model_output").mkdir(exist_ok=True)
    (data / SCORED).write_text("lead_id,probability,score,tier\nearlier-1,0.5,50,warm\n")
    (data / QUARANTINE).write_text("row,lead_id,reason\n3,earlier-4,created_date: earlier\n")
    (data / HISTORY).write_text(EARLIER_HISTORY)


def assert_complete(path: Path) -> None:
    """The file reads to its end in its own format: no half-written output."""
    suffix = path.suffix
    if suffix == ".parquet":
        pd.read_parquet(path)
    elif suffix == ".csv":
        pd.read_csv(path)
    elif suffix == ".json":
        json.loads(path.read_text())
    elif suffix == ".cbm":
        CatBoostModelDataset(filepath=str(path)).load()
    elif suffix == ".pkl":
        with path.open("rb") as handle:
            pickle.load(handle)  # the project's own output, written by this test's run
    elif suffix == ".png":
        assert path.read_bytes().endswith(b"IEND\xaeB`\x82"), path
    elif suffix == ".html":
        assert path.read_text().rstrip().endswith("</html>"), path
    else:
        assert path.stat().st_size > 0, path


def assert_no_visible_temporary_files(data: Path) -> None:
    """A killed write may leave its temporary file, but only hidden: ``.*.tmp``, ``.*.partial``."""
    for path in data.rglob("*"):
        if path.is_file() and any(tag in path.name for tag in (".tmp", ".partial")):
            assert path.name.startswith("."), path


# --- the process batch -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(trained_project, tmp_path_factory):
    """All fault scenarios as real `kedro run` processes, started together."""
    root = tmp_path_factory.mktemp("faults")
    cells = read_cells(trained_project / "data" / "01_raw" / "leads.csv", nrows=2 * BATCH)
    leads = cells.drop(columns=LABEL)
    second = leads.iloc[BATCH:].reset_index(drop=True)
    second.loc[::BROKEN_EVERY, "referred_lead"] = "maybe"
    exports = root / "exports"
    exports.mkdir()
    batch_a = write_export(leads.iloc[:BATCH], exports / "a.csv")
    batch_b = write_export(second, exports / "b.csv")

    racing = isolated_copy(trained_project, root / "racing")
    plant_earlier_scoring_outputs(racing / "data")
    killed_train = isolated_copy(trained_project, root / "killed_train")
    killed_scoring = isolated_copy(trained_project, root / "killed_scoring")
    plant_earlier_scoring_outputs(killed_scoring / "data")
    tracking_down = isolated_copy(trained_project, root / "tracking_down")
    offline = isolated_copy(trained_project, root / "offline")
    down = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{closed_port()}"}
    data = {
        name: snapshot(project / "data")
        for name, project in [
            ("killed_train", killed_train),
            ("killed_scoring", killed_scoring),
            ("tracking_down", tracking_down),
        ]
    }
    store = {"tracking_down": (tracking_down / "mlflow.db").read_bytes()}

    def score_run(name, project, export, extra="", **kwargs):
        args = ("run", "--pipeline=batch_scoring", f"--params=new_leads_path={export}{extra}")
        return KedroProcess(name, project, args, **kwargs)

    processes = [
        # The two racing runs first: they start at the same moment.
        score_run("score_a", racing, batch_a),
        score_run("score_b", racing, batch_b),
        KedroProcess(
            "killed_train",
            killed_train,
            ("run", "--pipeline=train"),
            # Killed in the middle of fitting, after the first outputs were rewritten.
            kill_when=after_change(
                killed_train / "data" / "05_model_input" / "model_input_fit.parquet", delay=1.0
            ),
        ),
        score_run(
            "killed_scoring",
            killed_scoring,
            batch_b,
            # Killed while the scored leads are being written.
            kill_when=lambda: any((killed_scoring / "data").rglob(".scored_leads.csv.*")),
        ),
        # Without the preflight check, MLflow's retries would hold the run for minutes.
        KedroProcess(
            "tracking_down", tracking_down, ("run", "--pipeline=train"), env=down, timeout=60
        ),
        score_run(
            "offline_scoring",
            offline,
            batch_a,
            extra=f",inference.model.uri={model_directory(offline)}",
            env=down,
        ),
    ]
    done = run_together(processes, root / "logs")
    return {
        "processes": done,
        "exports": {"a": batch_a, "b": batch_b},
        "before": data,
        "store": store,
    }


# --- a run killed halfway ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_train_run_killed_halfway_leaves_every_output_old_or_complete(runs):
    process = runs["processes"]["killed_train"]
    assert process.killed and process.returncode == -signal.SIGKILL, process.output[-2000:]
    data = process.project / "data"
    after = snapshot(data)
    rewritten = changed_files(runs["before"]["killed_train"], after)
    # The kill came after validation and features were rewritten, before a new model was saved.
    assert "05_model_input/model_input_fit.parquet" in rewritten
    assert "06_models/lead_scoring_model.cbm" not in rewritten
    for name in rewritten:
        if not Path(name).name.startswith("."):
            assert_complete(data / name)
    assert_no_visible_temporary_files(data)


@pytest.mark.slow
def test_a_killed_train_run_leaves_the_registered_champion_scoring_as_before(
    runs, scoring_model, export_cells
):
    project = runs["processes"]["killed_train"].project
    client = MlflowClient(tracking_uri=tracking_uri(project))
    assert str(client.get_model_version_by_alias("lead_scoring", "champion").version) == "1"
    assert [str(v.version) for v in client.search_model_versions("name='lead_scoring'")] == ["1"]
    leads = export_cells.head(30)
    pd.testing.assert_frame_equal(score(load_model(project), leads), score(scoring_model, leads))


@pytest.mark.slow
def test_a_scoring_run_killed_halfway_leaves_the_earlier_outputs_and_history_as_they_were(runs):
    process = runs["processes"]["killed_scoring"]
    assert process.killed and process.returncode == -signal.SIGKILL, process.output[-2000:]
    data = process.project / "data"
    rewritten = changed_files(runs["before"]["killed_scoring"], snapshot(data))
    # Outputs stream to hidden files and are published only when a run succeeds.
    assert {SCORED, QUARANTINE, HISTORY}.isdisjoint(rewritten)
    assert (data / HISTORY).read_text() == EARLIER_HISTORY
    for name in rewritten:
        # A hidden file, or one inside a hidden working folder (the call list files its rows
        # by score there), is not published.
        hidden = any(part.startswith(".") for part in Path(name).parts)
        assert hidden, f"{name} was published by a killed run"
    assert_no_visible_temporary_files(data)


# --- two scoring runs at the same time ---------------------------------------------------------


@pytest.mark.slow
def test_two_scoring_runs_at_once_both_finish_and_count_every_lead(runs):
    for name, export, broken in [("score_a", "a", 0), ("score_b", "b", BATCH // BROKEN_EVERY)]:
        process = runs["processes"][name]
        assert process.returncode == 0, process.output[-3000:]
        counts = tuple(map(int, COUNTS.findall(process.output)[-1]))
        assert counts == (BATCH, BATCH - broken, broken)
        assert len(load_export(runs["exports"][export])) == BATCH


@pytest.mark.slow
def test_two_scoring_runs_at_once_leave_each_output_whole_from_one_run(runs):
    data = runs["processes"]["score_a"].project / "data"
    ids = {name: load_export(path)[INDEX].tolist() for name, path in runs["exports"].items()}
    valid_b = [lead for row, lead in enumerate(ids["b"]) if row % BROKEN_EVERY]
    scored = pd.read_csv(data / SCORED, dtype={"lead_id": str})
    assert scored["lead_id"].tolist() in (ids["a"], valid_b)
    assert scored["probability"].between(0, 1).all()
    quarantine = pd.read_csv(data / QUARANTINE, dtype={"lead_id": str})
    assert quarantine["lead_id"].tolist() in ([], ids["b"][::BROKEN_EVERY])


@pytest.mark.slow
def test_two_scoring_runs_at_once_both_append_whole_rows_to_the_drift_history(runs):
    path = runs["processes"]["score_a"].project / "data" / HISTORY
    text = path.read_text()
    assert text.startswith(EARLIER_HISTORY)
    history = pd.read_csv(path)
    assert history.columns.tolist() == HISTORY_COLUMNS
    appended = history.iloc[1:]
    by_run = appended.groupby("rows")["feature"]
    broken = BATCH // BROKEN_EVERY
    assert sorted(by_run.groups) == [BATCH - broken, BATCH]
    features = [sorted(group) for _, group in by_run]
    assert features[0] == features[1]
    assert len(features[0]) == len(set(features[0]))
    assert len(text.splitlines()) == 1 + 1 + 2 * len(features[0])


# --- the tracking store unreachable ---------------------------------------------------------


@pytest.mark.slow
def test_training_with_the_tracking_server_down_stops_at_once_in_one_line(runs):
    process = runs["processes"]["tracking_down"]
    assert not process.timed_out and process.elapsed < 30, f"took {process.elapsed:.0f}s"
    assert process.returncode not in (0, None)
    assert "Traceback" not in process.output
    (line,) = error_lines(process.stderr)
    uri = process.env["MLFLOW_TRACKING_URI"]
    assert line.startswith(f"Error: The MLflow tracking server at {uri} is unreachable")
    assert "the run stopped before doing any work" in line
    # Stopped before fitting: no node ran, no file and no run was written.
    assert "Running node" not in process.output
    data = process.project / "data"
    assert changed_files(runs["before"]["tracking_down"], snapshot(data)) == set()
    assert (process.project / "mlflow.db").read_bytes() == runs["store"]["tracking_down"]


@pytest.mark.slow
def test_scoring_with_a_local_model_works_with_the_tracking_server_down(runs):
    process = runs["processes"]["offline_scoring"]
    assert process.returncode == 0, process.output[-2000:]
    assert COUNTS.findall(process.output)


def test_a_local_copy_of_the_model_scores_with_the_tracking_server_down(
    trained_project, export_cells, scoring_model, monkeypatch
):
    directory = model_directory(trained_project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{closed_port()}")
    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(str(directory))
    leads = export_cells.head(20)
    pd.testing.assert_frame_equal(score(model, leads), score(scoring_model, leads))
    assert time.perf_counter() - started < 30


# --- corrupted or missing model artifacts ------------------------------------------------------


@pytest.fixture(params=["corrupted", "missing"])
def broken_model_store(request, trained_project, tmp_path) -> Path:
    """A trained project copy whose registered version 1 lost its CatBoost model file."""
    project = isolated_copy(trained_project, tmp_path / "project")
    model_file = model_directory(project) / "artifacts" / "lead_scoring_model.cbm"
    if request.param == "corrupted":
        model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    else:
        model_file.unlink()
    return project


def _load_champion(project: Path) -> BaseException:
    with tracking_store(project):
        version = find_model_version({"name": "lead_scoring", "alias": "champion", "version": None})
        with pytest.raises(Exception) as caught:  # whichever type, its message must explain
            load_scoring_model(version)
    return caught.value


def test_a_broken_model_artifact_is_a_clear_one_line_error(broken_model_store):
    cause = _explained_cause(_load_champion(broken_model_store))
    assert cause is not None, "the CLI would print a traceback"
    message = str(cause)
    assert "lead_scoring_model.cbm" in message
    assert "missing or corrupted" in message


def test_a_broken_model_artifact_error_names_the_model_version(broken_model_store):
    message = str(_explained_cause(_load_champion(broken_model_store)))
    assert "lead_scoring version 1" in message


# --- atomic writes -------------------------------------------------------------------------


def test_a_write_that_fails_halfway_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "scored_leads.csv"
    path.write_text("lead_id,score\nold,50\n")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("lead_id,sc")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, half_then_fail)
    assert path.read_text() == "lead_id,score\nold,50\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored_leads.csv"]


def test_an_output_dataset_killed_while_writing_keeps_the_old_file_whole(tmp_path):
    path = tmp_path / "scored_leads.csv"
    AtomicCSVDataset(filepath=str(path)).save(pd.DataFrame({"lead_id": ["old"], "score": [50]}))
    old = path.read_bytes()
    writer = (
        "import sys, numpy as np, pandas as pd\n"
        "from lead_scoring.datasets import AtomicCSVDataset\n"
        "frame = pd.DataFrame(np.random.default_rng(0).random((3_000_000, 4)))\n"
        "AtomicCSVDataset(filepath=sys.argv[1]).save(frame)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", writer, str(path)], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            partial = [p for p in tmp_path.glob(".scored_leads.csv.*.partial") if p.stat().st_size]
            if partial:
                break
            time.sleep(0.01)
        assert partial, "the writer never started writing"
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == old
    assert_no_visible_temporary_files(tmp_path)
