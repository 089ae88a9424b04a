"""Benchmarks of the lead store's loop: `python benchmarks/bench_loop.py [--runs N]`.

Targets (issue 11), whole process, a `kedro run` as a scheduler starts it:
- `kedro run --pipeline=ingest` of one 1,000-lead daily file into an empty store: <= 10 s;
- `kedro run --pipeline=score_new` of the 1,000 new leads it stored: <= 15 s.

`--shadow` (issue 21): `kedro run --pipeline=score_new` of 10,000 due leads (`--leads`) with
the champion alone, then with a shadow challenger too; wall and CPU seconds and peak RSS of the
whole process, each the median of `--runs`. The challenger is the champion's model registered
again as a new version (same size, same code: the cost of a second model, not of a better one),
its alias removed afterwards. Targets: the challenger's run at most 1.8 times the time and 1.25
times the peak memory of the champion's alone (the models are never in memory together).
`--project DIR` measures a trained project of your own instead of the scratch one.

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
import contextlib

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
SHADOW_LEADS = 10_000
SHADOW_TARGETS = {"time_ratio": 1.8, "peak_rss_ratio": 1.25}
# One day's leads may pass the drift alert levels, which would fail the run after storing: the
# alert is not what is measured, and both cases compute the same drift report.
QUIET = "--params=score_new.drift_alert.score_psi=100,score_new.drift_alert.feature_psi=100"
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


def daily_file(project: Path, env: dict, leads: int = LEADS) -> Path:
    """One day's export of ``leads`` leads, written once by `kedro run --pipeline=generate_daily`."""
    folder = WORK / "loop" / f"daily_{leads}"
    path = folder / f"{DAY}_leads.csv"
    if not path.exists():
        kedro(
            project,
            env,
            "--pipeline=generate_daily",
            f"--params=generate_daily.first_day={DAY},generate_daily.days=1,"
            f"generate_daily.leads_per_day={leads},generate_daily.vary_volume=false,"
            f"landing_path={folder}",
        )
    return path


def measured_kedro(project: Path, env: dict, *args: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS in GiB of one `kedro run`.

    GNU time starts it: a child forked straight from this process would inherit its peak RSS.
    """
    report = WORK / "loop" / "time.out"
    cpu, start = _children_cpu(), time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), str(BIN / "kedro"), "run", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if result.returncode:
        lines = (result.stdout + result.stderr).splitlines()
        raise RuntimeError(f"kedro run {' '.join(args)} failed:\n" + "\n".join(lines[-15:]))
    return wall, cpu, int(report.read_text().split()[-1]) / 2**20


def shadow_challenger(project: Path, register: bool) -> None:
    """Register the champion's model again as the ``challenger``, or remove that alias."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    if not register:
        with contextlib.suppress(MlflowException):
            client.delete_registered_model_alias("lead_scoring", "challenger")
        return
    champion = client.get_model_version_by_alias("lead_scoring", "champion")
    # The champion's files, not its `models:/m-...` source, which only its own run may register.
    files = client.get_model_version_download_uri("lead_scoring", champion.version)
    copy = client.create_model_version("lead_scoring", source=files, run_id=champion.run_id)
    client.set_registered_model_alias("lead_scoring", "challenger", copy.version)


def shadow_case(args) -> None:
    """score_new of ``args.leads`` due leads, with the champion alone and with a challenger."""
    project = args.project or champion_project()
    loop = WORK / "loop"
    store, landing = loop / "shadow_store.db", loop / "shadow_landing"
    env = {**kedro_env(), "LEAD_STORE_URL": f"sqlite:///{store}"}
    source = daily_file(project, env, args.leads)
    figures: dict[str, dict[str, list[float]]] = {}
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    try:
        for case in ("champion_only", "with_challenger"):
            shadow_challenger(project, register=case == "with_challenger")
            runs = figures[case] = {"seconds": [], "cpu_seconds": [], "peak_rss_gib": []}
            for run in range(1, args.runs + 1):
                store.unlink(missing_ok=True)
                shutil.rmtree(landing, ignore_errors=True)
                landing.mkdir(parents=True)
                shutil.copy(source, landing)
                kedro(project, env, "--pipeline=ingest", f"--params=landing_path={landing}")
                wall, cpu, peak = measured_kedro(project, env, "--pipeline=score_new", QUIET)
                for name, value in zip(runs, (wall, cpu, peak), strict=True):
                    runs[name].append(value)
                print(
                    f"{case} run {run}: {wall:.2f} s ({cpu:.2f} s CPU), peak {peak:.2f} GiB",
                    flush=True,
                )
    finally:
        shadow_challenger(project, register=False)
    medians = {
        case: {name: statistics.median(values) for name, values in runs.items()}
        for case, runs in figures.items()
    }
    for case, values in medians.items():
        for name, value in values.items():
            print(f"score_new_{args.leads}_{case}_{name}={value:.3g} (median of {args.runs})")
    alone, shadow = medians["champion_only"], medians["with_challenger"]
    for name, figure in (("time_ratio", "seconds"), ("peak_rss_ratio", "peak_rss_gib")):
        ratio, target = shadow[figure] / alone[figure], SHADOW_TARGETS[name]
        verdict = "met" if ratio <= target else "MISSED"
        print(f"challenger_{name}={ratio:.3g} (target <= {target:g}, {verdict})")
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shadow", action="store_true", help="score_new with a challenger")
    parser.add_argument("--leads", type=int, default=SHADOW_LEADS, help="due leads, --shadow")
    parser.add_argument("--project", type=Path, help="a trained project to measure, --shadow")
    args = parser.parse_args()
    if args.shadow:
        shadow_case(args)
        return
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
