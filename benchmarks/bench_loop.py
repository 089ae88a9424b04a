"""Benchmarks of the lead store's loop: `python benchmarks/bench_loop.py [--runs N]`.

Targets (issue 11), whole process, a `kedro run` as a scheduler starts it:
- `kedro run --pipeline=ingest` of one 1,000-lead daily file into an empty store: <= 10 s;
- `kedro run --pipeline=score_new` of the 1,000 new leads it stored: <= 15 s.

The champion is bench.py's: trained by `kedro run --pipeline=train` on the default 240,000-lead
export in the scratch project under benchmarks/_work/ (trained once per version of src/). Each
run starts from a fresh store (LEAD_STORE_URL) and landing folder, so every run ingests and
scores the same 1,000 leads. Prints each run and the medians, `name=value unit`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BIN, WORK, kedro_env, trained_scratch_project

LEADS = 1_000
DAY = "2022-02-15"
TARGETS = {"ingest_daily_file_seconds": 10.0, "score_new_seconds": 15.0}


def kedro(project: Path, env: dict, *args: str) -> tuple[float, str]:
    """Wall seconds of one `kedro run`, and its last line of output."""
    start = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "kedro"), "run", *args], cwd=project, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode:
        raise RuntimeError(f"kedro run {' '.join(args)} failed:\n" + "\n".join(lines[-15:]))
    return wall, next((line for line in reversed(lines) if "lead_scoring.pipelines" in line), "")


def daily_file(project: Path, env: dict) -> Path:
    """One day's export of LEADS leads, written once by `kedro run --pipeline=generate_daily`."""
    folder = WORK / "loop" / "daily"
    path = folder / f"{DAY}_leads.csv"
    if not path.exists():
        kedro(
            project,
            env,
            "--pipeline=generate_daily",
            f"--params=generate_daily.first_day={DAY},generate_daily.days=1,"
            f"generate_daily.leads_per_day={LEADS},landing_path={folder},"
            f"outcomes_path={WORK / 'loop' / 'outcomes'}",
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    project = trained_scratch_project()
    loop = WORK / "loop"
    store = loop / "lead_store.db"
    env = {**kedro_env(), "LEAD_STORE_URL": f"sqlite:///{store}"}
    source = daily_file(project, env)
    landing = loop / "landing"
    figures: dict[str, list[float]] = {name: [] for name in TARGETS}
    for run in range(1, args.runs + 1):
        store.unlink(missing_ok=True)
        shutil.rmtree(landing, ignore_errors=True)
        landing.mkdir(parents=True)
        shutil.copy(source, landing)
        ingest, ingested = kedro(
            project, env, "--pipeline=ingest", f"--params=landing_path={landing}"
        )
        score, scored = kedro(project, env, "--pipeline=score_new")
        figures["ingest_daily_file_seconds"].append(ingest)
        figures["score_new_seconds"].append(score)
        print(f"run {run}: ingest {ingest:.2f} s, score_new {score:.2f} s", flush=True)
        if run == 1:
            print(f"  {ingested.split(':', 3)[-1].strip()}\n  {scored.split(':', 3)[-1].strip()}")
    for name, values in figures.items():
        median = statistics.median(values)
        verdict = "met" if median <= TARGETS[name] else "MISSED"
        print(
            f"{name}={median:.3g} s (median of {len(values)}; target <= {TARGETS[name]:g} s, {verdict})"
        )
    print(f"cores={os.cpu_count()}")


if __name__ == "__main__":
    main()
