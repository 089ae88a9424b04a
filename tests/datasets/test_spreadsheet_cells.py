"""Files a person opens in a spreadsheet: no text cell runs as a formula (CSV injection)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from lead_scoring import settings
from lead_scoring.datasets import AtomicCSVDataset, CallListDataset, StreamedCSVDataset
from lead_scoring.datasets.spreadsheet_cells import FORMULA_STARTS, neutralise_formulas

HOSTILE_CITIES = [
    '=HYPERLINK("http://x","open")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


def spreadsheet_cells(path: Path) -> list[str]:
    """Every cell of a CSV file as a spreadsheet reads it: the text between the separators."""
    with path.open(newline="", encoding="utf-8") as file:
        return [cell for row in csv.reader(file) for cell in row]


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def formulas(cells: list[str]) -> list[str]:
    """The cells a spreadsheet runs: those starting a formula, except plain numbers like -1."""
    return [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not is_number(cell)]


def leads(cities: list[str]) -> pd.DataFrame:
    n = len(cities)
    return pd.DataFrame(
        {
            "score": [90 - i for i in range(n)],
            "city_mapped": cities,
            "probability": [0.9 - i / 100 for i in range(n)],
            "total_leads_droppped": pd.array([-1, *range(n - 1)], dtype="Int64"),
            "change": [-0.5] * n,
        }
    )


def test_text_cells_that_start_a_formula_are_quoted_and_numbers_stay_numbers():
    frame = leads([*HOSTILE_CITIES, "pune", "a=b", "'=already text"])
    frame["mixed"] = pd.Series([None, 3, -4, "=1", "-5", "x", "", pd.NA, "ok"], dtype=object)
    safe = neutralise_formulas(frame)
    assert safe["city_mapped"].tolist() == [
        *(f"'{city}" for city in HOSTILE_CITIES),
        "pune",
        "a=b",
        "'=already text",
    ]
    # Numeric columns keep their negative numbers; non-text cells of a text column stay too.
    assert safe["total_leads_droppped"].equals(frame["total_leads_droppped"])
    assert safe["change"].equals(frame["change"])
    assert safe["mixed"].tolist()[:4] == [None, 3, -4, "'=1"]
    assert safe["mixed"].tolist()[4] == "'-5"
    # The caller's frame, which the store and the model read, keeps the text as typed.
    assert frame["city_mapped"].tolist()[0] == HOSTILE_CITIES[0]


def test_a_frame_without_formulas_is_returned_as_is():
    frame = leads(["pune", "mumbai"])
    assert neutralise_formulas(frame) is frame
    assert neutralise_formulas(pd.DataFrame()).empty


@pytest.mark.parametrize("neutralise", [True, False])
def test_each_csv_writer_quotes_formulas_only_when_its_catalog_entry_asks(tmp_path, neutralise):
    frame = leads(HOSTILE_CITIES)
    atomic = AtomicCSVDataset(
        filepath=str(tmp_path / "atomic.csv"),
        save_args={"index": False},
        neutralise_formulas=neutralise,
    )
    atomic.save(frame)
    streamed = StreamedCSVDataset(
        filepath=str(tmp_path / "streamed.csv"), neutralise_formulas=neutralise
    )
    calls = CallListDataset(filepath=str(tmp_path / "calls.csv"), neutralise_formulas=neutralise)
    for dataset in (streamed, calls):
        # Two chunks, as batch scoring saves them.
        dataset.save(frame.iloc[:3])
        dataset.save(frame.iloc[3:])
        dataset.commit()
    for name in ("atomic.csv", "streamed.csv", "calls.csv"):
        cells = spreadsheet_cells(tmp_path / name)
        # The numeric columns' negative numbers are written as numbers either way.
        assert cells.count("-1") == 1 and cells.count("-0.5") == len(HOSTILE_CITIES), name
        if neutralise:
            assert formulas(cells) == [], name
            assert sorted(c for c in cells if c.startswith("'")) == sorted(
                f"'{city}" for city in HOSTILE_CITIES
            ), name
        else:
            # Unsafe as the issue found it: the city runs as a formula.
            assert set(HOSTILE_CITIES[:2]) <= set(formulas(cells)), name


def test_every_file_a_person_opens_asks_for_it_in_the_catalog(project_root):
    catalog = OmegaConfigLoader(
        conf_source=str(project_root / "conf"), **settings.CONFIG_LOADER_ARGS
    )["catalog"]

    # A file logged to MLflow is saved by the dataset its entry wraps.
    entries = {name: entry for name, entry in catalog.items() if isinstance(entry, dict)}
    writers = {
        name: entry["dataset"] if isinstance(entry.get("dataset"), dict) else entry
        for name, entry in entries.items()
    }
    always = {"call_list", "scored_leads", "scoring_quarantine", "quarantined_leads"}
    assert always <= set(writers)
    opened = always | {"call_list_new", "segments"} & set(writers)
    opened |= {name for name, w in writers.items() if "CallListDataset" in str(w.get("type"))}
    for name in sorted(opened):
        assert writers[name].get("neutralise_formulas") is True, name
