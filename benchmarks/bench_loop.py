"""Benchmarks of the lead store's loop: `python benchmarks/bench_loop.py [--runs N]`.

Targets (issue 11), whole process, a `kedro run` as a scheduler starts it:
- `kedro run --pipeline=ingest` of one 1,000-lead daily file into an empty store: <= 10 s;
- `kedro run --pipeline=score_new` of the 1,000 new leads it stored: <= 15 s.

The champion is bench.py's: trained by `kedro run --pipeline=train` on the default 240,000-lead
export in the scratch project under benchmarks/_work/, once; a champion trained by older code
serves as well here, since ingest and score_new are not part of the model. Each
run starts from a fresh store (LEAD_STORE_URL) and landing folder, so every run ingests and
scores the same 1,000 leads. Prints each run and the medians, `name=value unit`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (
    BIN,
    WORK,
    export,
    kedro_env,
    scratch_project,
    stamp_champion,
    timed_process,
    train_command,
)

LEADS = 1_000
DAY = "2022-02-15"
TARGETS = {"ingest_daily_file_seconds": 10.0, "score_new_seconds": 15.0}
CPU = {
    "ingest_daily_file_seconds": "ingest_cpu_seconds",
    "score_new_seconds": "score_new_cpu_seconds",
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def kedro(project: Path, env: dict, *args: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of one `kedro run`, and its last line of output.

    The CPU seconds say what the run costs when other work shares the cores: on a busy machine
    the wall time is mostly waiting.
    """
    cpu, start = _children_cpu(), time.perf_counter()
    result = subprocess.run(
        [str(BIN / "kedro"), "run", *args], cwd=project, env=env, capture_output=True, text=True
    )
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode:
        raise RuntimeError(f"kedro run {' '.join(args)} failed:\n" + "\n".join(lines[-15:]))
    summary = next((line for line in reversed(lines) if "lead_scoring.pipelines" in line), "")
    return wall, cpu, summary


def champion_project() -> Path:
    """bench.py's scratch project, with a champion trained on the default export if it has none."""
    project = scratch_project()
    if not (project / "mlflow.db").exists():
        timed_process(train_command(export(project, 240_000, labelled=True)), project)
        stamp_champion(project)
    return project


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
            f"generate_daily.leads_per_day={LEADS},generate_daily.vary_volume=false,"
            f"landing_path={folder}",
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    project = champion_project()
    loop = WORK / "loop"
    store = loop / "lead_store.db"
    env = {**kedro_env(), "LEAD_STORE_URL": f"sqlite:///{store}"}
    source = daily_file(project, env)
    landing = loop / "landing"
    figures: dict[str, list[float]] = {name: [] for name in [*TARGETS, *CPU.values()]}
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for run in range(1, args.runs + 1):
        store.unlink(missing_ok=True)
        shutil.rmtree(landing, ignore_errors=True)
        landing.mkdir(parents=True)
        shutil.copy(source, landing)
        ingest, ingest_cpu, ingested = kedro(
            project, env, "--pipeline=ingest", f"--params=landing_path={landing}"
        )
        score, score_cpu, scored = kedro(project, env, "--pipeline=score_new")
        for name, value in zip(figures, (ingest, score, ingest_cpu, score_cpu), strict=True):
            figures[name].append(value)
        print(
            f"run {run}: ingest {ingest:.2f} s ({ingest_cpu:.2f} s CPU), "
            f"score_new {score:.2f} s ({score_cpu:.2f} s CPU)",
            flush=True,
        )
        if run == 1:
            print(f"  {ingested.split(':', 3)[-1].strip()}\n  {scored.split(':', 3)[-1].strip()}")
    for name, target in TARGETS.items():
        median = statistics.median(figures[name])
        verdict = "met" if median <= target else "MISSED"
        print(f"{name}={median:.3g} s (median of {args.runs}; target <= {target:g} s, {verdict})")
        print(f"{CPU[name]}={statistics.median(figures[CPU[name]]):.3g} s (median of {args.runs})")
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
