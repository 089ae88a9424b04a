"""AtomicCSVDataset: kedro-datasets' CSVDataset, with saves that replace the file atomically."""

from __future__ import annotations

import fcntl
import logging
import os

import fsspec
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import Version
from kedro_datasets.pandas import CSVDataset

from lead_scoring import settings
from lead_scoring.datasets import AtomicCSVDataset, publish
from lead_scoring.datasets.publish import write_atomically

FRAME = pd.DataFrame({"lead_id": ["a", "b"], "score": [91, 7], "reason": ["café; late", None]})


def test_a_save_writes_the_bytes_csvdataset_writes_and_loads_back_with_its_arguments(tmp_path):
    arguments = {
        "load_args": {"sep": ";", "dtype": {"score": "str"}},
        "save_args": {"sep": ";", "na_rep": "missing"},
        "fs_args": {"open_args_save": {"encoding": "latin-1"}},
    }
    atomic, plain = tmp_path / "atomic.csv", tmp_path / "plain.csv"
    dataset = AtomicCSVDataset(filepath=str(atomic), **arguments)
    dataset.save(FRAME)
    CSVDataset(filepath=str(plain), **arguments).save(FRAME)
    assert atomic.read_bytes() == plain.read_bytes()
    assert "café".encode("latin-1") in atomic.read_bytes()
    loaded = AtomicCSVDataset(
        filepath=str(atomic), load_args={**arguments["load_args"], "encoding": "latin-1"}
    ).load()
    assert loaded["score"].tolist() == ["91", "7"]
    assert loaded["reason"].tolist() == ["café; late", "missing"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.csv", "plain.csv"]


def test_a_save_that_fails_halfway_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "quarantined_leads.csv"
    path.write_text("row,reason\n3,old\n")

    class Unwritable(pd.DataFrame):
        def to_csv(self, path_or_buf=None, **kwargs):
            path_or_buf.write("row,rea")
            raise OSError("disk full")

    with pytest.raises(DatasetError, match="disk full"):
        AtomicCSVDataset(filepath=str(path)).save(Unwritable(FRAME))
    assert path.read_text() == "row,reason\n3,old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["quarantined_leads.csv"]


def test_a_save_removes_a_killed_writers_temporary_file_and_keeps_a_live_ones(tmp_path, caplog):
    path = tmp_path / "quarantined_leads.csv"
    killed = tmp_path / ".quarantined_leads.csv.killed.partial"
    killed.write_text("row,rea")
    live = tmp_path / ".quarantined_leads.csv.live.partial"
    with live.open("a") as writer:
        # What a writer in another process holds while it writes.
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        with caplog.at_level(logging.WARNING):
            AtomicCSVDataset(filepath=str(path)).save(FRAME)
        assert live.exists() and not killed.exists()
    assert "Removed 1 staged file(s) of quarantined_leads.csv" in caplog.text
    pd.testing.assert_frame_equal(AtomicCSVDataset(filepath=str(path)).load(), FRAME)


def test_the_temporary_file_is_locked_while_it_is_written(tmp_path):
    path = tmp_path / "out.csv"
    seen = {}

    def write(tmp):
        tmp.write_text("x\n1\n")
        with tmp.open("a") as other:
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen["locked"] = False
            except BlockingIOError:
                seen["locked"] = True

    write_atomically(path, write)
    assert seen == {"locked": True}
    assert path.read_text() == "x\n1\n"


@pytest.mark.parametrize("cleaner", ["deletes it", "holds it"])
def test_a_temporary_file_another_writers_clean_up_takes_first_is_replaced(
    tmp_path, monkeypatch, cleaner
):
    """A second writer's clean-up can lock and delete a new file before its creator locks it."""
    path = tmp_path / "drift_report.json"
    made, held = [], []

    def mkstemp_raced(**kwargs):
        fd, name = real_mkstemp(**kwargs)
        made.append(name)
        if len(made) == 1:  # the other writer gets to the first file first
            if cleaner == "deletes it":
                os.unlink(name)
            else:
                held.append(open(name, "ab"))  # noqa: SIM115 - held across the write
                fcntl.flock(held[0].fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, name

    real_mkstemp = publish.tempfile.mkstemp
    monkeypatch.setattr(publish.tempfile, "mkstemp", mkstemp_raced)
    write_atomically(path, lambda tmp: tmp.write_text('{"rows": 3}'))
    for handle in held:
        handle.close()
    assert len(made) == 2
    assert path.read_text() == '{"rows": 3}'
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_versioned_entry_is_refused_saying_which_dataset_to_use(tmp_path):
    # A versioned save writes a new file each time: nothing to replace atomically.
    with pytest.raises(DatasetError, match=r"is not versioned.*Use CSVDataset"):
        AtomicCSVDataset(filepath=str(tmp_path / "s.csv"), version=Version(None, None))


def test_a_remote_path_loads_as_csvdataset_does_but_is_not_saved_without_atomicity():
    memory = fsspec.filesystem("memory")
    memory.pipe("/atomic_test/leads.csv", b"lead_id,score\na,91\n")
    try:
        dataset = AtomicCSVDataset(filepath="memory:///atomic_test/leads.csv")
        assert dataset.load().to_dict("list") == {"lead_id": ["a"], "score": [91]}
        with pytest.raises(DatasetError, match="local files only"):
            dataset.save(FRAME)
        assert memory.cat("/atomic_test/leads.csv") == b"lead_id,score\na,91\n"
    finally:
        memory.rm("/atomic_test", recursive=True)


def test_the_catalog_entries_that_use_it_save_and_load(project_root, tmp_path, monkeypatch):
    loader = OmegaConfigLoader(
        conf_source=str(project_root / "conf"), **settings.CONFIG_LOADER_ARGS
    )
    entries = {
        name: config
        for name, config in loader["catalog"].items()
        if "AtomicCSVDataset" in str(config)
    }
    assert entries, "no catalog entry uses AtomicCSVDataset"
    monkeypatch.chdir(tmp_path)  # the entries' relative paths land in the test's folder
    for name, config in entries.items():
        dataset = AbstractDataset.from_config(name, config)
        dataset._logging_activated = False  # MlflowArtifactDataset: no MLflow run here
        dataset.save(FRAME)
        pd.testing.assert_frame_equal(dataset.load(), FRAME)
        inner = config.get("dataset", config)
        assert (tmp_path / inner["filepath"]).is_file()
