"""Does validation's and feature engineering's cleverness pay? `python benchmarks/bench_lead_cells.py`.

Each figure times a piece of the validation and features path two ways, the code as it is and the
plain per-column pandas code it would otherwise be, on one served lead (a one-row frame, as
`mlflow models serve` gets it) and on a 50,000-lead batch. A way of doing it stays only where it
saves at least 1 ms a served lead; the comment at the code quotes the figure. Prints one line per
figure, each way's CPU milliseconds, medians of many calls (a served lead) or of 5 (a batch).
Runs in about a minute; the inputs come from the project's own generate pipeline, in process.
"""

from __future__ import annotations

import argparse
import calendar
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kedro.config import OmegaConfigLoader  # noqa: E402

from lead_scoring.contract import (  # noqa: E402
    CREATED_DATE,
    LABEL,
    LEADS_DROPPED,
    LEVEL_COLUMNS,
    LEVEL_PATTERN,
    REFERRED,
)
from lead_scoring.datasets import RawLeadsDataset  # noqa: E402
from lead_scoring.pipelines.feature_engineering.nodes import (  # noqa: E402
    build_features,
    fit_category_vocabulary,
    hour_and_weekday,
)
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads  # noqa: E402
from lead_scoring.pipelines.validation.nodes import validate_raw_leads  # noqa: E402
from lead_scoring.pipelines.validation.schemas import (  # noqa: E402
    breaks_level_rule,
    parse_leads,
    parse_number_columns,
)
from tests.conftest import generate_export  # noqa: E402

BATCH = 50_000
# Generated once and repeated up to the batch size: parsing does not care that leads repeat.
GENERATED = 5_000


def median_ms(function: Callable[[], object], calls: int) -> float:
    """Median CPU milliseconds of ``calls`` calls, after a few warm-up calls."""
    for _ in range(min(calls, 5)):
        function()
    times = []
    for _ in range(calls):
        # CPU time: on a machine other jobs share, the wall clock mostly measures the waiting.
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


# --- the plain per-column code each clever piece is measured against ----------------------------


def counts_per_column(leads: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Numbers and empty cells of the count columns, one pandas call per column."""
    numbers = [pd.to_numeric(leads[c], errors="coerce").to_numpy("float64") for c in columns]
    blank = [leads[c].isna().to_numpy() for c in columns]
    return np.stack(numbers, axis=1), np.stack(blank, axis=1)


def levels_per_column(leads: pd.DataFrame) -> np.ndarray:
    """Which level cells break the rule, one pandas call per column."""
    broken = [
        (leads[column].notna() & ~leads[column].str.match(LEVEL_PATTERN)).to_numpy(dtype=bool)
        for column in LEVEL_COLUMNS
    ]
    return np.stack(broken, axis=1)


def hour_and_weekday_by_day_arithmetic(created: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Hour and weekday from numpy day arithmetic: what feature engineering did before."""
    seconds = created.to_numpy(dtype="datetime64[s]")
    days = seconds.astype("datetime64[D]")
    hours = (seconds - days).astype("timedelta64[h]").astype("int8")
    # 1970-01-01, day 0 of numpy's calendar, was a Thursday (weekday 3).
    weekdays = ((days.astype("int64") + 3) % 7).astype("int8")
    return hours, weekdays


WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


# --- the figures ---------------------------------------------------------------------------------


def figure(name: str, calls: int, *ways: tuple[str, Callable[[], object]]) -> None:
    """One line: each way of doing it in milliseconds, and what the first saves on the second."""
    times = [(label, median_ms(function, calls)) for label, function in ways]
    line = " | ".join(f"{label} {ms:.3f} ms" for label, ms in times)
    if len(times) == 2:
        line += f" (the first saves {times[1][1] - times[0][1]:+.3f} ms)"
    print(f"  {name}: {line}", flush=True)


def run(leads: pd.DataFrame, setting: dict, calls: int) -> None:
    """Every figure on one frame of normalised leads."""
    mapping, params, tiers = setting["mapping"], setting["params"], setting["tiers"]
    interactions = list(mapping["interaction_type"])
    counts = [LEADS_DROPPED, REFERRED, *interactions, LABEL]

    for kept, plain in zip(
        parse_number_columns(leads, counts), counts_per_column(leads, counts), strict=True
    ):
        np.testing.assert_array_equal(kept, plain)
    figure(
        f"{len(counts)} count columns as numbers",
        calls,
        ("one Arrow call (kept)", lambda: parse_number_columns(leads, counts)),
        ("per column", lambda: counts_per_column(leads, counts)),
    )
    np.testing.assert_array_equal(levels_per_column(leads), breaks_level_rule(leads))
    figure(
        "level rule",
        calls,
        ("one Arrow call (kept)", lambda: breaks_level_rule(leads)),
        ("per column", lambda: levels_per_column(leads)),
    )
    figure(
        "one parse of the batch, which the screen and the typed rows share",
        calls,
        ("parse_leads", lambda: parse_leads(leads, interactions)),
    )
    valid, _ = validate_raw_leads(leads, mapping, params["validation"], True)
    created = valid[CREATED_DATE]
    weekdays = created.dt.day_of_week.to_numpy(dtype="int8")
    for was, now in zip(
        hour_and_weekday_by_day_arithmetic(created), hour_and_weekday(created), strict=True
    ):
        np.testing.assert_array_equal(was, now)
    figure(
        "hour and weekday",
        calls,
        ("numpy day arithmetic (was)", lambda: hour_and_weekday_by_day_arithmetic(created)),
        ("pandas .dt (now)", lambda: hour_and_weekday(created)),
    )
    figure(
        "weekday names",
        calls,
        ("a table (kept)", lambda: [WEEKDAY_NAMES[day] for day in weekdays]),
        ("calendar.day_name", lambda: [calendar.day_name[day] for day in weekdays]),
    )
    figure(
        "validate_raw_leads",
        calls,
        ("as it is", lambda: validate_raw_leads(leads, mapping, params["validation"], True)),
    )
    flagged = leads.copy()
    flagged.loc[flagged.index[0], REFERRED] = "maybe"
    figure(
        "validate_raw_leads, the first lead breaking a rule",
        max(calls // 10, 5),
        (
            "Pandera judges it",
            lambda: validate_raw_leads(flagged, mapping, params["validation"], True),
        ),
    )
    vocabulary, fe = setting["vocabulary"], params["feature_engineering"]
    figure(
        "build_features",
        calls,
        ("as it is", lambda: build_features(valid, vocabulary, tiers, mapping, fe)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per served-lead figure")
    args = parser.parse_args()
    started = time.perf_counter()
    params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="local")[
        "parameters"
    ]
    reference = ROOT / "data" / "01_raw" / "reference"
    mapping = pd.read_csv(reference / "interaction_mapping.csv")
    tiers = pd.read_csv(reference / "city_tiers.csv")
    with tempfile.TemporaryDirectory() as scratch:
        # Written and read back: the export as the reader gives it, every cell as text.
        path = str(Path(scratch) / "leads.csv")
        RawLeadsDataset(filepath=path).save(generate_export(params, tiers, mapping, GENERATED))
        raw = RawLeadsDataset(filepath=path).load()
    batch = pd.concat([raw] * (BATCH // GENERATED), ignore_index=True)
    leads = normalise_raw_leads(batch, mapping, params["ingestion"])
    valid, _ = validate_raw_leads(leads, mapping, params["validation"], True)
    setting = {
        "mapping": mapping,
        "params": params,
        "tiers": tiers,
        "vocabulary": fit_category_vocabulary(valid, params["feature_engineering"]),
    }
    served = normalise_raw_leads(raw.head(1), mapping, params["ingestion"])
    print(f"One served lead (median of {args.calls} calls):", flush=True)
    run(served, setting, args.calls)
    print(f"A batch of {len(leads):,} leads (median of 5 calls):", flush=True)
    run(leads, setting, 5)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
