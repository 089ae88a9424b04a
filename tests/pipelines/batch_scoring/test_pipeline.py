"""`kedro run --pipeline=batch_scoring` end to end: outputs, counts, monitoring and the errors."""

from __future__ import annotations

import re
import time
import weakref

import pandas as pd
import pytest
from kedro.io import AbstractDataset, DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from lead_scoring.contract import TIERS
from lead_scoring.datasets import ScoredChunksDataset
from lead_scoring.datasets.raw_leads_dataset import REJECTED_COLUMNS, ExportChunk
from lead_scoring.pipelines.batch_scoring import create_pipeline, nodes
from tests.conftest import REAL_EXPORT, copy_project, needs_shared, run_kedro
from tests.pipelines.batch_scoring.conftest import (
    BROKEN,
    DUPLICATED_ROWS,
    SCORED_COLUMNS,
    copy_trained_project,
    predictions_frame,
    tracking_store,
)

COUNTS = re.compile(r"(\d+) read, (\d+) scored, (\d+) quarantined")


def read_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"lead_id": str, "model_version": str})


def counts_in_log(log: str) -> tuple[int, int, int]:
    """The read/scored/quarantined counts, which must be the last thing batch scoring logs.

    Drift monitoring reads what scoring wrote and may log its warnings after them.
    """
    scoring_lines = [line for line in log.splitlines() if f" {nodes.__name__}:" in line]
    match = COUNTS.search(scoring_lines[-1])
    assert match, f"batch scoring's log does not end with the counts: {scoring_lines[-1]}"
    return tuple(int(n) for n in match.groups())


def assert_readable_reasons(scored: pd.DataFrame) -> None:
    reasons = scored[["reason_1", "reason_2", "reason_3"]]
    assert reasons.notna().all().all()
    sentence = r"[A-Z].+, which (raises|lowers) the score\."
    assert reasons.apply(lambda c: c.str.fullmatch(sentence)).all().all()
    printed_nan = reasons.stack()[lambda text: text.str.contains(r"\bnan\b")]
    assert printed_nan.empty, (
        f"{len(printed_nan)} reasons print a missing value as 'nan', e.g. {printed_nan.iloc[0]!r}"
    )


def test_every_valid_row_is_scored_in_input_order(scored_project, new_leads):
    scored = read_csv(scored_project / "data" / "07_model_output" / "scored_leads.csv")
    valid = new_leads.drop(index=list(BROKEN))
    assert scored.columns.tolist() == ["line", *SCORED_COLUMNS]
    assert scored["lead_id"].tolist() == valid[""].tolist()
    # The header is line 1: the export's row i starts on line i + 2.
    assert scored["line"].tolist() == [row + 2 for row in valid.index]
    assert scored["created_date"].tolist() == valid["created_date"].tolist()
    assert scored["score"].between(1, 99).all()
    assert scored["probability"].between(0, 1).all()
    assert set(scored["tier"]) <= set(TIERS)
    assert (scored["model_version"] == "1").all()
    assert_readable_reasons(scored)


def test_duplicated_rows_are_scored_not_dropped(scored_project, new_leads):
    scored = read_csv(scored_project / "data" / "07_model_output" / "scored_leads.csv")
    for row in DUPLICATED_ROWS:
        copies = scored.loc[scored["lead_id"] == new_leads.loc[row, ""]]
        assert len(copies) == 2
        assert copies["probability"].nunique() == 1


def test_counts_add_up_on_an_export_with_broken_rows(scored_project, new_leads):
    read, scored, quarantined = counts_in_log((scored_project / "inference_run.log").read_text())
    assert (read, scored, quarantined) == (len(new_leads), len(new_leads) - len(BROKEN), 4)
    quarantine = read_csv(scored_project / "data" / "07_model_output" / "quarantined_leads.csv")
    assert quarantine.columns.tolist() == ["row", "line", "lead_id", "reason"]
    assert quarantine["row"].tolist() == sorted(BROKEN)
    assert quarantine["line"].tolist() == [row + 2 for row in sorted(BROKEN)]
    assert quarantine["lead_id"].tolist() == new_leads.loc[sorted(BROKEN), ""].tolist()
    for (_, (column, _)), reason in zip(sorted(BROKEN.items()), quarantine["reason"], strict=True):
        assert reason.startswith(column)


def test_the_run_appends_drift_history_and_writes_a_plot(scored_project):
    history = read_csv(scored_project / "data" / "08_reporting" / "drift_history.csv")
    assert {"run_time", "model_version", "feature", "psi", "status"} <= set(history.columns)
    assert {"city_mapped", "first_platform_c", "total_leads_droppped", "score", "tier"} <= set(
        history["feature"]
    )
    assert history["feature"].is_unique  # one run: one row per feature
    assert (history["model_version"] == "1").all()
    assert history["psi"].ge(0).all()
    assert set(history["status"]) <= {"stable", "watch", "drift"}
    plot = scored_project / "data" / "08_reporting" / "drift_plot.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_run_is_tracked_with_drift_counts_and_realised_auc(scored_project):
    with tracking_store(scored_project) as client:
        (run,) = client.search_runs(
            [client.get_experiment_by_name("lead_scoring").experiment_id],
            filter_string="attributes.run_name LIKE 'batch_scoring%'",
        )
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    metrics = run.data.metrics
    assert metrics["batch.rows_read"] == metrics["batch.rows_scored"] + 4
    # The doctored export is a labelled backfill: its realised AUC is logged.
    assert 0.6 < metrics["realised.roc_auc"] <= 1
    assert "drift.psi.first_platform_c" in metrics
    assert metrics["drift.unseen_share.first_platform_c"] > 0  # Level999
    assert sum(metrics[f"drift.tier_share.{tier}"] for tier in TIERS) == pytest.approx(1)
    assert {"drift_plot.png", "drift_report.json"} <= artifacts
    assert run.data.params["inference.model.alias"] == "champion"


def test_scoring_in_small_chunks_writes_the_same_outputs(scored_project, tmp_path):
    """A batch read 700 leads at a time scores exactly as one read whole."""
    project = copy_trained_project(scored_project, tmp_path / "project")
    outputs = [
        project / "data" / "07_model_output" / "scored_leads.csv",
        project / "data" / "02_intermediate" / "quarantined_leads.csv",
    ]
    whole = [path.read_bytes() for path in outputs]
    result = run_kedro(
        project, "run", "--pipeline=batch_scoring", "--params=inference.chunk_rows=700"
    )
    assert "Scored 1400 leads so far" in result.stdout + result.stderr
    assert [path.read_bytes() for path in outputs] == whole
    assert not list(project.rglob("*.partial"))


def test_without_a_trained_model_the_run_stops_with_one_line(tmp_path, new_leads):
    project = copy_project(tmp_path)
    new_leads.iloc[:50].to_csv(project / "data" / "01_raw" / "new_leads.csv", index=False)
    result = run_kedro(project, "run", "--pipeline=batch_scoring", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    # The CLI's last word is the error, on one line.
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: No trained model")
    assert last.endswith("Run `kedro run --pipeline=train` first.")
    assert not (project / "data" / "07_model_output" / "scored_leads.csv").exists()


@needs_shared
def test_the_real_export_scores_as_it_is(trained_project, tmp_path):
    project = copy_trained_project(trained_project, tmp_path / "project")
    started = time.perf_counter()
    result = run_kedro(
        project, "run", "--pipeline=batch_scoring", f"--params=new_leads_path={REAL_EXPORT}"
    )
    elapsed = time.perf_counter() - started
    read, scored, quarantined = counts_in_log(result.stdout + result.stderr)
    export = pd.read_csv(REAL_EXPORT, usecols=[0], dtype=str)
    assert read == len(export) == scored + quarantined
    assert quarantined < 0.01 * read
    output = read_csv(project / "data" / "07_model_output" / "scored_leads.csv")
    assert len(output) == scored
    assert output["lead_id"].is_unique
    assert_readable_reasons(output)
    print(f"real export: {read} read, {scored} scored, {quarantined} quarantined in {elapsed:.1f}s")


class ChunkedExport:
    """An export of ``rows`` leads, read a chunk at a time as ``LeadExport`` reads it."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def read(self, rows: int):
        for start in range(0, self.rows, rows):
            index = pd.RangeIndex(start, min(start + rows, self.rows))
            leads = pd.DataFrame({"": "x"}, index=index)
            yield ExportChunk(leads, index.to_numpy() + 2, pd.DataFrame(columns=REJECTED_COLUMNS))


class ScoresEveryThirdQuarantined:
    """A stand-in for the registered model: every third lead of a chunk is quarantined."""

    def predict(self, leads: pd.DataFrame) -> pd.DataFrame:
        return predictions_frame(
            ["quarantined" if i % 3 == 2 else "scored" for i in range(len(leads))]
        )


class HeldChunks(AbstractDataset):
    """Counts the rows saved, and the rows of earlier chunks still alive in memory meanwhile."""

    def __init__(self) -> None:
        self.saved, self.rows, self.most_rows_held = [], 0, 0

    def save(self, data: pd.DataFrame) -> None:
        self.rows += len(data)
        # Weak references: a chunk is held only if something else still refers to it.
        self.saved.append(weakref.ref(data))
        held = sum(len(frame) for ref in self.saved if (frame := ref()) is not None)
        self.most_rows_held = max(self.most_rows_held, held)

    def load(self):
        raise NotImplementedError

    def _describe(self) -> dict:
        return {}


def test_scoring_holds_one_chunk_in_memory_however_many_it_scores(tmp_path):
    """Each node after scoring reads the scored chunks back one at a time and lets each go."""
    scored, quarantine, calls, tally = HeldChunks(), HeldChunks(), HeldChunks(), MemoryDataset()
    chunks = ScoredChunksDataset(filepath=str(tmp_path / "scored_chunks"))
    catalog = DataCatalog(
        {
            "scoring_model": MemoryDataset(ScoresEveryThirdQuarantined(), copy_mode="assign"),
            "new_leads": MemoryDataset(ChunkedExport(300), copy_mode="assign"),
            "scoring_model_version": MemoryDataset({"version": "3"}),
            "params:inference": MemoryDataset({"chunk_rows": 30}),
            "scored_chunks": chunks,
            "scored_leads": scored,
            "scoring_quarantine": quarantine,
            "call_list": calls,
            "batch_tally": tally,
        }
    )
    nodes = ["score_export", "list_scored_leads", "list_quarantined_leads", "list_calls"]
    SequentialRunner().run(create_pipeline().only_nodes(*nodes, "count_batch"), catalog)
    assert (scored.rows, quarantine.rows, calls.rows) == (200, 100, 200)
    assert (tally.load()["scored"], tally.load()["quarantined"]) == (200, 100)
    # Ten chunks went through; at no time were more than one chunk's rows held.
    assert len(scored.saved) == 10
    assert (scored.most_rows_held, quarantine.most_rows_held, calls.most_rows_held) == (20, 10, 20)
    # The scored chunks were the run's scratch: gone once read.
    assert not list(tmp_path.iterdir())
