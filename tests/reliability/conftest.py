"""Reliability fixtures: broken exports, the registered scoring model, isolated project copies,
file snapshots, and a runner that starts several `kedro run` processes at once.

Every `kedro run` here is a real process in its own copy of the trained project, so a run that
breaks, is killed or races another one never touches the session's shared `trained_project`.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lead_scoring.datasets import RawLeadsDataset
from tests.conftest import KEDRO, kedro_env, tracking_store  # noqa: F401 (re-exported)

INDEX = "Unnamed: 0"
LABEL = "app_complete_flag"
REASONS = ["reason_1", "reason_2", "reason_3"]
TIERS = {"hot", "warm", "cold"}
MODEL_NAME = "lead_scoring"
# A stopped or failed run prints its cause as the CLI's one line.
ERROR_PREFIX = "Error: "
PROCESS_TIMEOUT = 300


# --- exports ------------------------------------------------------------------------------


def read_cells(path: Path, nrows: int | None = None) -> pd.DataFrame:
    """An export's cells exactly as written: text, blanks as empty strings."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, nrows=nrows)


def write_export(
    frame: pd.DataFrame,
    path: Path,
    *,
    sep: str = ",",
    line_end: str = "\n",
    bom: bool = False,
    encoding: str = "utf-8",
    quoting: int = csv.QUOTE_MINIMAL,
) -> Path:
    """Write cells in the export format: the index column's header is empty."""
    text = frame.rename(columns={INDEX: ""}).to_csv(
        index=False, sep=sep, lineterminator=line_end, quoting=quoting
    )
    path.write_bytes((("\ufeff" if bom else "") + text).encode(encoding))
    return path


def load_export(path: Path) -> pd.DataFrame:
    """The export as the pipelines read it."""
    return RawLeadsDataset(filepath=str(path)).load()


# --- the registered scoring model ---------------------------------------------------------


def tracking_uri(project: Path) -> str:
    return f"sqlite:///{project / 'mlflow.db'}"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def model_directory(project: Path, version: str = "1") -> Path:
    """The local directory holding a registered version's artifacts."""
    client = MlflowClient(tracking_uri=tracking_uri(project))
    uri = client.get_model_version_download_uri(MODEL_NAME, version)
    return Path(uri.removeprefix("file://"))


def load_model(project: Path, version: str = "1") -> mlflow.pyfunc.PyFuncModel:
    """A registered version, loaded from its own directory: no global tracking state changes."""
    return mlflow.pyfunc.load_model(str(model_directory(project, version)))


def score(model, raw: pd.DataFrame) -> pd.DataFrame:
    """Score raw leads as batch scoring does: a label, if any, is set aside first."""
    return model.predict(raw.drop(columns=[c for c in raw.columns if str(c).strip() == LABEL]))


def assert_every_row_accounted(raw: pd.DataFrame, scores: pd.DataFrame) -> None:
    """read = scored + quarantined, in input order; quarantined rows carry a reason."""
    assert len(scores) == len(raw)
    assert set(scores["status"]) <= {"scored", "quarantined"}
    quarantined = scores["status"] == "quarantined"
    reasons = scores.loc[quarantined, "quarantine_reason"]
    assert reasons.notna().all()
    assert reasons.str.len().gt(0).all()
    scored = scores.loc[~quarantined]
    assert scored["quarantine_reason"].isna().all()
    assert scored["probability"].between(0, 1).all()
    assert scored["score"].between(1, 99).all()
    assert set(scored["tier"]) <= TIERS
    assert scored[REASONS].notna().all().all()
    index = next((c for c in (INDEX, "") if c in raw.columns), None)
    if index is not None:
        assert scores["lead_id"].tolist() == raw[index].str.strip().tolist()


@pytest.fixture(scope="session")
def scoring_model(trained_project):
    """Version 1 of the model the shared trained project registered: the served scoring core."""
    return load_model(trained_project)


@pytest.fixture(scope="session")
def export_cells(small_export) -> pd.DataFrame:
    """The first 400 leads of the small labelled export, as text cells.

    Their ids are made unlike row numbers, so a lead id lost on the way cannot pass unnoticed.
    """
    cells = read_cells(small_export, nrows=400)
    return cells.assign(**{INDEX: "lead-" + cells[INDEX]})


# --- project copies and their files -------------------------------------------------------


def isolated_copy(trained_project: Path, destination: Path) -> Path:
    """A copy of a trained project whose tracking store points at the copy's own artifacts.

    MLflow records absolute artifact locations; without the rewrite a run in the copy would
    write into, and read from, the shared original.
    """
    shutil.copytree(
        trained_project, destination, ignore=shutil.ignore_patterns("__pycache__", "*.log")
    )
    old, new = str(trained_project), str(destination)
    with sqlite3.connect(destination / "mlflow.db") as store:
        tables = [
            row[0] for row in store.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for _, column, kind, *_ in store.execute(f'PRAGMA table_info("{table}")'):
                if any(text in kind.upper() for text in ("CHAR", "TEXT", "CLOB")):
                    store.execute(
                        f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                        f'WHERE instr("{column}", ?) > 0',
                        (old, new, old),
                    )
    store.close()
    return destination


def snapshot(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``directory``: its content hash and modification time."""
    return {
        str(path.relative_to(directory)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def changed_files(before: dict, after: dict) -> set[str]:
    """Files created, deleted, rewritten or touched between two snapshots."""
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(ERROR_PREFIX)]


# --- kedro processes ----------------------------------------------------------------------


@dataclass
class KedroProcess:
    """One `kedro <args>` process in ``project``; ``kill_when`` SIGKILLs it once true."""

    name: str
    project: Path
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    kill_when: Callable[[], bool] | None = None
    timeout: float = PROCESS_TIMEOUT
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    elapsed: float = 0.0
    killed: bool = False
    timed_out: bool = False

    def start(self, logs: Path) -> None:
        self._logs = (logs / f"{self.name}.out", logs / f"{self.name}.err")
        self._files = [path.open("w") for path in self._logs]
        self._started = time.perf_counter()
        self._process = subprocess.Popen(
            [str(KEDRO), *self.args],
            cwd=self.project,
            env={**kedro_env(), **self.env},
            stdout=self._files[0],
            stderr=self._files[1],
            # Its own process group, so a kill reaches every process the run started.
            start_new_session=True,
        )

    def _kill(self) -> None:
        os.killpg(self._process.pid, signal.SIGKILL)
        self.killed = True

    def finished(self) -> bool:
        if self.kill_when is not None and not self.killed and self.kill_when():
            self._kill()
        if self._process.poll() is None:
            if time.perf_counter() - self._started > self.timeout:
                # Recorded, not raised: only the tests of this run fail.
                self.timed_out = True
                self._kill()
                self._process.wait()
            return False
        self.elapsed = time.perf_counter() - self._started
        self.returncode = self._process.returncode
        for handle in self._files:
            handle.close()
        self.stdout, self.stderr = (path.read_text() for path in self._logs)
        return True

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_together(processes: list[KedroProcess], logs: Path, parallel: int = 4) -> dict:
    """Run the processes, ``parallel`` at a time, in list order; return them by name.

    Processes at the head of the list start at the same moment: list two runs first to race them.
    """
    logs.mkdir(parents=True, exist_ok=True)
    pending, running = list(processes), []
    while pending or running:
        while pending and len(running) < parallel:
            process = pending.pop(0)
            process.start(logs)
            running.append(process)
        time.sleep(0.05)
        running = [process for process in running if not process.finished()]
    return {process.name: process for process in processes}


def after_change(path: Path, delay: float) -> Callable[[], bool]:
    """True from ``delay`` seconds after ``path`` was rewritten."""
    before = path.stat().st_mtime_ns if path.exists() else None
    seen: list[float] = []

    def due() -> bool:
        if not seen and path.exists() and path.stat().st_mtime_ns != before:
            seen.append(time.perf_counter())
        return bool(seen) and time.perf_counter() - seen[0] >= delay

    return due
