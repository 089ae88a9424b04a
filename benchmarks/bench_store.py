"""Benchmarks of the lead store's ingest: `python benchmarks/bench_store.py [--files N] [--leads N]`.

Targets (issue 20):
- a backlog of 10,000 one-lead files ingests in under 5 minutes (each file its own transaction,
  so a run cut short keeps what it finished);
- 100,000 leads in one file (quoted, no target).

Runs ingest's node in process, as `kedro run --pipeline=ingest` runs it after its start-up
(about 10 s, measured in bench_loop.py): list the landing folder, hash, read, validate and store
each file. The leads come from the project's generate pipeline, with CRM ids. The store is a
fresh SQLite file unless `--url` names another (e.g. a PostgreSQL database). Prints
`name=value unit` lines.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from lead_scoring.datasets import LandingDataset
from lead_scoring.pipelines import generate
from lead_scoring.pipelines.ingest.nodes import ingest_landing_files, summarise_ingest
from lead_scoring.store import LeadStore

ROOT = Path(__file__).resolve().parents[1]
TARGET_BACKLOG_SECONDS = 300.0


def parameters() -> dict:
    loader = OmegaConfigLoader(
        conf_source=str(ROOT / "conf"), base_env="base", default_run_env="local"
    )
    return loader["parameters"]


def generated_leads(params: dict, n_leads: int) -> pd.DataFrame:
    """A labelled export from the generate pipeline, its label dropped, with CRM ids."""
    reference = ROOT / "data" / "01_raw" / "reference"
    catalog = DataCatalog(
        {
            "city_tiers": MemoryDataset(pd.read_csv(reference / "city_tiers.csv")),
            "interaction_mapping": MemoryDataset(
                pd.read_csv(reference / "interaction_mapping.csv")
            ),
            "params:generate": MemoryDataset({**params["generate"], "n_leads": n_leads, "seed": 3}),
        }
    )
    leads = (
        SequentialRunner().run(generate.create_pipeline(), catalog)["generated_raw_leads"].load()
    )
    leads = leads.drop(columns=["app_complete_flag"]).reset_index(drop=True)
    ids = [f"crm-{n}" for n in range(len(leads))]
    return leads.set_axis(ids).assign(lead_id=ids)[["lead_id", *leads.columns]]


def ingest(folder: Path, url: str, params: dict) -> tuple[float, dict]:
    """Seconds of one ingest of ``folder`` into the store at ``url``, and its totals.

    The totals also carry the run's CPU seconds, and those spent in the store's writes apart
    from reading and validating the files (on a shared machine, wall time is mostly waiting).
    """
    mapping = pd.read_csv(ROOT / "data" / "01_raw" / "reference" / "interaction_mapping.csv")
    start, cpu = time.perf_counter(), time.process_time()
    store = LeadStore(url)
    write = store.ingest_file
    store_cpu = [0.0]

    def timed_write(lead_file, at=None):
        before = time.process_time()
        try:
            return write(lead_file, at)
        finally:
            store_cpu[0] += time.process_time() - before

    store.ingest_file = timed_write  # type: ignore[method-assign]
    files = LandingDataset(path=str(folder), dataset="lead_scoring.datasets.RawLeadsDataset").load()
    report = ingest_landing_files(
        files,
        store,
        mapping,
        params["ingestion"],
        params["validation"],
        {**params["landing"], "settle_seconds": 0},
    )
    totals = summarise_ingest(report)
    totals.update(cpu=time.process_time() - cpu, store_cpu=store_cpu[0])
    return time.perf_counter() - start, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="one-lead files in the backlog")
    parser.add_argument("--leads", type=int, default=100_000, help="leads in the one big file")
    parser.add_argument("--url", default=None, help="store URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("lead_scoring").setLevel(logging.ERROR)
    params = parameters()
    work = Path(tempfile.mkdtemp(prefix="bench_store_"))
    try:
        leads = generated_leads(params, max(args.files, args.leads))
        backlog = work / "backlog"
        backlog.mkdir()
        for n in range(args.files):
            leads.iloc[[n]].to_csv(backlog / f"lead_{n:06d}.csv")
        url = args.url or f"sqlite:///{work / 'backlog.db'}"
        seconds, totals = ingest(backlog, url, params)
        assert totals["leads_new"] == args.files, totals
        print(f"backlog_files={args.files} files")
        print(f"backlog_seconds={seconds:.1f} s (target < {TARGET_BACKLOG_SECONDS:.0f} s)")
        print(f"backlog_files_per_second={args.files / seconds:.1f} files/s")
        print(
            f"backlog_cpu_seconds={totals['cpu']:.1f} s, of which store writes {totals['store_cpu']:.1f} s"
        )
        again, _ = ingest(backlog, url, params)
        print(f"backlog_rerun_seconds={again:.1f} s (every file already read)")

        big = work / "big"
        big.mkdir()
        leads.iloc[: args.leads].to_csv(big / "leads.csv")
        url = args.url.replace("backlog", "big") if args.url else f"sqlite:///{work / 'big.db'}"
        seconds, totals = ingest(big, url, params)
        assert totals["leads_new"] == args.leads, totals
        print(f"one_file_leads={args.leads} leads")
        print(f"one_file_seconds={seconds:.1f} s")
        print(f"one_file_leads_per_second={args.leads / seconds:.0f} leads/s")
        print(
            f"one_file_cpu_seconds={totals['cpu']:.1f} s, of which store writes {totals['store_cpu']:.1f} s"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (shared)")


if __name__ == "__main__":
    main()
