"""AtomicJSONDataset: kedro-datasets' JSONDataset, with saves that replace the file atomically."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.json import JSONDataset

from lead_scoring import settings
from lead_scoring.datasets import AtomicJSONDataset

REPORT = {"rows": 3, "features": {"city_tier": {"psi": 0.012, "status": "stable"}}}


def test_a_save_writes_the_bytes_jsondataset_writes_and_loads_back(tmp_path):
    atomic, plain = tmp_path / "atomic.json", tmp_path / "plain.json"
    AtomicJSONDataset(filepath=str(atomic), save_args={"indent": 2}).save(REPORT)
    JSONDataset(filepath=str(plain), save_args={"indent": 2}).save(REPORT)
    assert atomic.read_bytes() == plain.read_bytes()
    assert AtomicJSONDataset(filepath=str(atomic)).load() == REPORT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.json", "plain.json"]


def test_a_save_that_fails_halfway_leaves_the_old_file(tmp_path):
    path = tmp_path / "drift_report.json"
    path.write_text('{"rows": 1}')
    with pytest.raises(DatasetError):
        AtomicJSONDataset(filepath=str(path)).save({"rows": 2, "bad": object()})
    assert path.read_text() == '{"rows": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["drift_report.json"]


_WRITER = """
import sys
from lead_scoring.datasets import AtomicJSONDataset

dataset = AtomicJSONDataset(filepath=sys.argv[1])
size = int(sys.argv[2])
for i in range(300):
    dataset.save({"writer": size, "i": i, "padding": "x" * size})
"""


def test_two_writers_at_once_leave_one_whole_report_never_a_mix(tmp_path):
    """Written in place, the shorter report would keep the longer one's tail: invalid JSON."""
    path = tmp_path / "drift_report.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(size)])
        for size in (20_000, 100)
    ]
    reads = 0
    while any(w.poll() is None for w in writers):
        if path.exists():
            report = json.loads(path.read_text())
            assert len(report["padding"]) == report["writer"]
            reads += 1
    assert [w.wait() for w in writers] == [0, 0]
    assert reads > 0
    final = json.loads(path.read_text())
    assert len(final["padding"]) == final["writer"]
    assert [p.name for p in tmp_path.iterdir()] == ["drift_report.json"]


def test_a_run_reads_back_its_own_drift_report_not_one_a_run_beside_it_saved(
    project_root, tmp_path, monkeypatch
):
    loader = OmegaConfigLoader(
        conf_source=str(project_root / "conf"), **settings.CONFIG_LOADER_ARGS
    )
    monkeypatch.chdir(tmp_path)
    for name in ("drift_report", "new_scores_drift"):
        config = loader["catalog"][name]
        assert "AtomicJSONDataset" in str(config)
        dataset = AbstractDataset.from_config(name, config)
        inner = dataset._dataset
        if hasattr(inner, "_logging_activated"):
            inner._logging_activated = False  # MlflowArtifactDataset: no MLflow run here
        dataset.save(REPORT)
        written = next(tmp_path.rglob(f"*{name.split('_')[-1]}*.json"), None) or next(
            tmp_path.rglob("*.json")
        )
        assert json.loads(written.read_text()) == REPORT
        # Another run replaces the file: this run's nodes still read its own report.
        written.write_text(json.dumps({"rows": 99}))
        assert dataset.load() == REPORT
        for path in tmp_path.rglob("*.json"):
            path.unlink()
