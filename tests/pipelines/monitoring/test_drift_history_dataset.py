"""The drift history dataset appends rows, keeps its header, and loses nothing to concurrency."""

from __future__ import annotations

import multiprocessing

import pandas as pd
import pytest
from filelock import FileLock
from kedro.io import DatasetError

from lead_scoring.datasets.drift_history_dataset import DriftHistoryDataset

WRITERS = 6
APPENDS = 15


def rows(writer: int, append: int, n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_time": [f"2024-01-01T00:00:{append:02d}"] * n,
            "writer": [writer] * n,
            "append": [append] * n,
            "feature": [f"f{i}" for i in range(n)],
            "psi": [0.1 * i for i in range(n)],
        }
    )


def test_saves_append_below_one_header(tmp_path):
    path = tmp_path / "reporting" / "drift_history.csv"
    dataset = DriftHistoryDataset(filepath=str(path))
    dataset.save(rows(0, 0))
    dataset.save(rows(0, 1))
    history = dataset.load()
    assert len(history) == 8
    assert history["append"].tolist() == [0] * 4 + [1] * 4
    assert path.read_text().count("run_time") == 1


def test_old_rows_are_kept_byte_for_byte(tmp_path):
    path = tmp_path / "drift_history.csv"
    dataset = DriftHistoryDataset(filepath=str(path))
    dataset.save(rows(0, 0))
    before = path.read_bytes()
    dataset.save(rows(0, 1))
    assert path.read_bytes().startswith(before)


def test_columns_follow_the_existing_header(tmp_path):
    dataset = DriftHistoryDataset(filepath=str(tmp_path / "h.csv"))
    dataset.save(rows(0, 0))
    reordered = rows(0, 1)[["psi", "feature", "append", "writer", "run_time"]]
    dataset.save(reordered)
    assert dataset.load()["psi"].tolist() == rows(0, 0)["psi"].tolist() * 2


def test_a_different_set_of_columns_is_refused(tmp_path):
    dataset = DriftHistoryDataset(filepath=str(tmp_path / "h.csv"))
    dataset.save(rows(0, 0))
    with pytest.raises(DatasetError, match="Cannot append"):
        dataset.save(rows(0, 1).drop(columns="psi"))


def test_loading_before_any_run_says_so(tmp_path):
    with pytest.raises(DatasetError, match="No drift history"):
        DriftHistoryDataset(filepath=str(tmp_path / "h.csv")).load()


def test_a_held_lock_times_out_instead_of_waiting_forever(tmp_path):
    path = tmp_path / "h.csv"
    dataset = DriftHistoryDataset(filepath=str(path), lock_timeout=0.2)
    with (
        FileLock(path.with_name(".h.csv.lock"), timeout=1),
        pytest.raises(DatasetError, match="Timed out"),
    ):
        dataset.save(rows(0, 0))
    assert not path.exists()


def _append_many(path: str, writer: int) -> None:
    dataset = DriftHistoryDataset(filepath=path)
    for append in range(APPENDS):
        dataset.save(rows(writer, append))


def test_concurrent_runs_lose_no_rows(tmp_path):
    path = tmp_path / "drift_history.csv"
    context = multiprocessing.get_context("fork")
    writers = [
        context.Process(target=_append_many, args=(str(path), writer)) for writer in range(WRITERS)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    history = pd.read_csv(path)
    assert len(history) == WRITERS * APPENDS * 4
    assert not history.duplicated().any()
    # Each writer's appends stay in the order it made them.
    for _, appends in history.groupby("writer")["append"]:
        assert appends.is_monotonic_increasing
