"""Benchmarks of lead_scoring: `make bench`, or one case: `python benchmarks/bench.py --only NAME`.

Inputs come from the project's own generate pipeline. Each case runs at least three times and
prints one line per figure, `name=value unit`, with the median; the table goes to RESULTS.md.
Whole-process cases run `kedro` in a scratch copy of the project under benchmarks/_work/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

sys.path.insert(0, str(ROOT))
from tests.conftest import copy_project, kedro_env  # noqa: E402

TARGETS = {
    "features_seconds": ("≤ 10 s", lambda v: v <= 10),
    "features_vs_reference_speedup": ("≥ 50×", lambda v: v >= 50),
    "train_wall_seconds": ("≤ 150 s", lambda v: v <= 150),
    "train_peak_rss_gib": ("≤ 4 GiB", lambda v: v <= 4),
    "score_wall_seconds": ("≤ 75 s", lambda v: v <= 75),
    "score_peak_rss_gib": ("≤ 3 GiB", lambda v: v <= 3),
    "score_overhead_ratio": ("≤ 1.5", lambda v: v <= 1.5),
    "score_memory_growth_ratio": ("≤ 1.3", lambda v: v <= 1.3),
    "serve_latency_p50_ms": ("≤ 50 ms", lambda v: v <= 50),
    "serve_latency_p95_ms": ("reported", lambda v: True),
    "serve_batch_seconds": ("≤ 1 s", lambda v: v <= 1),
}
UNITS = {"seconds": "s", "gib": "GiB", "ratio": "×", "speedup": "×", "ms": "ms"}


def report(name: str, value: float, results: dict) -> None:
    """Print one figure and keep it for RESULTS.md."""
    unit = UNITS[name.rsplit("_", 1)[1]]
    results[name] = value
    print(f"{name}={value:.4g} {unit}", flush=True)


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def timed_process(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS in GiB of one child process (and what it waited for)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        args, cwd=cwd, env=kedro_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{child.stderr.read().decode()[-3000:]}")
    return wall, usage.ru_maxrss / 2**20


def scratch_project() -> Path:
    """A copy of the project to run whole-process cases in, reused across cases."""
    project = WORK / "project"
    if not (project / "pyproject.toml").exists():
        WORK.mkdir(parents=True, exist_ok=True)
        copy_project(project)
    return project


def export(project: Path, rows: int, labelled: bool = True, seed: int = 42) -> Path:
    """A generated raw export of ``rows`` leads, made once and kept in the scratch project."""
    path = project / "data" / "01_raw" / f"bench_{rows}_{'labelled' if labelled else 'new'}.csv"
    if path.exists():
        return path
    subprocess.run(
        [
            str(BIN / "kedro"),
            "run",
            "--pipeline=generate",
            f"--params=generate.n_leads={rows},generate.seed={seed},generated_leads_path={path}",
        ],
        cwd=project,
        env=kedro_env(),
        check=True,
        capture_output=True,
    )
    if not labelled:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.drop(columns="app_complete_flag").to_csv(path, index=False)
    return path


# --- cases ------------------------------------------------------------------------------


def case_features(args, results: dict) -> None:
    """Validation and feature engineering of raw leads, in process, read included."""
    from kedro.config import OmegaConfigLoader

    from lead_scoring.datasets import RawLeadsDataset
    from lead_scoring.pipelines.feature_engineering.nodes import (
        build_features,
        fit_category_vocabulary,
    )
    from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
    from lead_scoring.pipelines.validation.nodes import validate_raw_leads

    project = scratch_project()
    path = export(project, args.rows or 1_000_000, labelled=False)
    params = OmegaConfigLoader(str(project / "conf"), base_env="base", default_run_env="local")[
        "parameters"
    ]
    reference = project / "data" / "01_raw" / "reference"
    mapping = pd.read_csv(reference / "interaction_mapping.csv")
    tiers = pd.read_csv(reference / "city_tiers.csv")

    def once() -> float:
        start = time.perf_counter()
        raw = RawLeadsDataset(filepath=str(path)).load()
        leads = normalise_raw_leads(raw, mapping, params["ingestion"])
        valid, _ = validate_raw_leads(leads, mapping, params["validation"], False)
        vocabulary = fit_category_vocabulary(valid, params["feature_engineering"])
        build_features(valid, vocabulary, tiers, mapping, params["feature_engineering"])
        return time.perf_counter() - start

    report("features_seconds", median_of(args.repeats, once), results)


def melt_merge_pivot_sums(leads: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    """The original system's interaction-group sums: long form, merge the mapping, pivot back."""
    columns = mapping["interaction_type"].tolist()
    long = leads[columns].reset_index().melt(id_vars="index", var_name="interaction_type")
    long = long.merge(mapping, on="interaction_type")
    wide = long.pivot_table(
        index="index", columns="interaction_mapping", values="value", aggfunc="sum", fill_value=0
    )
    return wide.reindex(leads.index, fill_value=0)


def case_features_vs_reference(args, results: dict) -> None:
    """interaction_group_sums against the melt/merge/pivot reference on the same leads."""
    from lead_scoring.datasets import RawLeadsDataset
    from lead_scoring.pipelines.feature_engineering.nodes import interaction_group_sums
    from lead_scoring.pipelines.validation.schemas import parse_numbers

    project = scratch_project()
    path = export(project, args.rows or 250_000, labelled=False)
    mapping = pd.read_csv(project / "data" / "01_raw" / "reference" / "interaction_mapping.csv")
    raw = RawLeadsDataset(filepath=str(path)).load()
    leads = pd.DataFrame(
        {c: parse_numbers(raw[c]).astype("float32") for c in mapping["interaction_type"]}
    )

    def seconds(function) -> tuple[float, pd.DataFrame]:
        start = time.perf_counter()
        result = function(leads, mapping)
        return time.perf_counter() - start, result

    ours = [seconds(interaction_group_sums) for _ in range(args.repeats)]
    theirs = [seconds(melt_merge_pivot_sums) for _ in range(args.repeats)]
    expected = theirs[0][1].reindex(columns=ours[0][1].columns, fill_value=0)
    identical = np.array_equal(ours[0][1].to_numpy(), expected.to_numpy(dtype="float32"))
    if not identical:
        raise AssertionError("interaction_group_sums disagrees with the reference")
    ours_s = statistics.median(s for s, _ in ours)
    theirs_s = statistics.median(s for s, _ in theirs)
    print(
        f"features_group_sums_seconds={ours_s:.4g} s (reference {theirs_s:.4g} s, identical sums)"
    )
    report("features_vs_reference_speedup", theirs_s / ours_s, results)


def case_train(args, results: dict) -> None:
    """`kedro run --pipeline=train` on the default export, as a whole process."""
    project = scratch_project()
    path = export(project, args.rows or 240_000, labelled=True)
    command = [str(BIN / "kedro"), "run", "--pipeline=train", f"--params=raw_leads_path={path}"]
    runs = [timed_process(command, project) for _ in range(args.repeats)]
    report("train_wall_seconds", statistics.median(w for w, _ in runs), results)
    report("train_peak_rss_gib", statistics.median(r for _, r in runs), results)


CASES = {
    "features": case_features,
    "features_vs_reference": case_features_vs_reference,
    "train": case_train,
}


def machine() -> str:
    with open("/proc/meminfo") as f:
        total_kib = int(f.readline().split()[1])
    return f"{os.cpu_count()} cores, {total_kib / 2**20:.1f} GiB memory, {platform.platform()}"


def write_results(results: dict) -> None:
    """Merge this run's figures into RESULTS.md, keeping figures of cases not run now."""
    store = ROOT / "benchmarks" / "results.json"
    kept = json.loads(store.read_text()) if store.exists() else {}
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    kept.update({name: {"value": value, "date": stamp} for name, value in results.items()})
    store.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n")
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}. Written by `make bench` (medians of at least 3 runs).",
        "",
        "| figure | median | target | met | measured |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (target, met) in TARGETS.items():
        if name in kept:
            value = kept[name]["value"]
            unit = UNITS[name.rsplit("_", 1)[1]]
            lines.append(
                f"| {name} | {value:.4g} {unit} | {target} | {'yes' if met(value) else 'NO'} "
                f"| {kept[name]['date']} |"
            )
    RESULTS.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    parser.add_argument("--rows", type=int, default=None, help="leads per input (case default)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, float] = {}
    for name in args.only or CASES:
        CASES[name](args, results)
    write_results(results)


if __name__ == "__main__":
    main()
