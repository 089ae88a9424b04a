"""Broken exports made by byte-level edits: every physical line after the header comes back
scored or quarantined with its line number, or the file is refused in one line.

Each export is the generated one (or the real one, where ../shared is present) with a few bytes
changed, scored in process by the batch scoring node with the registered model.
"""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DatasetError

from lead_scoring.datasets import RawLeadsDataset
from lead_scoring.pipelines.batch_scoring.nodes import (
    add_tallies,
    quarantined_leads,
    score_export,
    scored_leads,
    tally_scored_chunk,
)
from tests.conftest import REAL_EXPORT, needs_shared
from tests.reliability.conftest import INDEX, LABEL, write_export

CITY = 2  # field of city_mapped in an export line: the index column, created_date, city
N_LEADS = 300


@pytest.fixture(scope="module")
def export_bytes(export_cells, tmp_path_factory) -> bytes:
    """A clean unlabelled export of 300 leads, as bytes."""
    leads = export_cells.drop(columns=LABEL).head(N_LEADS)
    path = write_export(leads, tmp_path_factory.mktemp("clean") / "leads.csv")
    return path.read_bytes()


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")


def with_field(line: bytes, position: int, value: bytes) -> bytes:
    fields = line.split(b",")
    fields[position] = value
    return b",".join(fields)


def write_lines(lines: list[bytes], path) -> tuple:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def score_file(model, path, parameters, chunk_rows=200_000):
    """Batch scoring's nodes over the export: its scored rows, quarantine and tally."""
    export = RawLeadsDataset(filepath=str(path), chunked=True).load()
    settings = {**parameters["inference"], "chunk_rows": chunk_rows}
    scored, quarantine, tally = [], [], None
    for chunk in score_export(model, export, {"version": "1"}, settings):
        scored.append(scored_leads(chunk.rows))
        quarantine.append(quarantined_leads(chunk.rows, chunk.rejected))
        tally = add_tallies(tally, tally_scored_chunk(chunk))
    return pd.concat(scored, ignore_index=True), pd.concat(quarantine, ignore_index=True), tally


def assert_every_line_accounted(path, scored, quarantine, tally) -> None:
    """Each line after the header is scored or quarantined, once, and the counts add up."""
    data_lines = len(lines_of(path.read_bytes())) - 1
    told = scored["line"].tolist() + quarantine["line"].tolist()
    assert sorted(told) == list(range(2, data_lines + 2))
    assert (tally["read"], tally["scored"], tally["quarantined"]) == (
        data_lines,
        len(scored),
        len(quarantine),
    )
    assert all(isinstance(reason, str) and reason for reason in quarantine["reason"])
    assert not scored["lead_id"].dropna().duplicated().any()


def reason_of(quarantine: pd.DataFrame, line: int) -> str:
    (reason,) = quarantine.loc[quarantine["line"] == line, "reason"]
    return reason


@pytest.fixture
def score(scoring_model, parameters):
    def scored(path, **kwargs):
        return score_file(scoring_model, path, parameters, **kwargs)

    return scored


# --- 1. stray quotes -------------------------------------------------------------------------


def test_stray_quotes_quarantine_the_lines_they_merge_instead_of_swallowing_leads(
    export_bytes, score, tmp_path
):
    lines = lines_of(export_bytes)
    # Line 10's city opens a quote, line 14's closes one: a CSV reader merges lines 10 to 14.
    lines[9] = with_field(lines[9], CITY, b'"pune')
    lines[13] = with_field(lines[13], CITY, b'delhi"')
    path = write_lines(lines, tmp_path / "leads.csv")
    scored, quarantine, tally = score(path)
    assert_every_line_accounted(path, scored, quarantine, tally)
    merged = range(10, 15)
    assert set(quarantine["line"]) >= set(merged)
    for line in merged:
        assert "stray quote" in reason_of(quarantine, line)
        assert "line 10 runs to line 14" in reason_of(quarantine, line)
    # The lines' own lead ids, not text from three rows.
    ids = [line.split(b",")[0].decode() for line in lines[9:14]]
    assert quarantine.set_index("line").loc[list(merged), "lead_id"].tolist() == ids
    assert not set(ids) & set(scored["lead_id"])


@pytest.mark.parametrize("city", [b'"new\ndelhi"', b'"sector 5,\r\nnew delhi"'])
def test_a_legitimate_quoted_line_break_is_one_lead(city, export_bytes, score, tmp_path):
    lines = lines_of(export_bytes)
    lines[4] = with_field(lines[4], CITY, city)
    path = write_lines(lines, tmp_path / "leads.csv")
    scored, quarantine, tally = score(path)
    assert tally["read"] == N_LEADS
    assert 5 in set(scored["line"]) | set(quarantine["line"])
    assert 6 not in set(scored["line"]) | set(quarantine["line"])  # the record's second line


@needs_shared
def test_stray_quotes_in_the_real_export_quarantine_only_the_merged_lines(tmp_path):
    lines = lines_of(REAL_EXPORT.read_bytes())
    lines[100] = with_field(lines[100], CITY, b'"pune')
    lines[102] = with_field(lines[102], CITY, b'delhi"')
    path = write_lines(lines, tmp_path / "real.csv")
    chunks = list(RawLeadsDataset(filepath=str(path), chunked=True).load().read(5_000))
    rejected = pd.concat([chunk.rejected for chunk in chunks])
    read_lines = [line for chunk in chunks for line in chunk.lines]
    assert rejected["line"].tolist() == [101, 102, 103]
    assert sorted(read_lines + rejected["line"].tolist()) == list(range(2, len(lines) + 1))


# --- 2. blank lines, a late byte that is not UTF-8, a repeated header ------------------------


def test_blank_lines_and_a_late_bad_byte_never_score_a_lead_twice(export_bytes, score, tmp_path):
    lines = lines_of(export_bytes)
    lines[250] = with_field(lines[250], CITY, b"bogot\xe1")  # after the first 100-lead chunk
    lines[200:200] = [lines[0]]  # the header again, mid-file
    lines[3:3] = [b"", b"", b"\r"]
    path = write_lines(lines, tmp_path / "leads.csv")
    scored, quarantine, tally = score(path, chunk_rows=100)
    assert_every_line_accounted(path, scored, quarantine, tally)
    assert len(scored) + len(quarantine) == N_LEADS + 4
    assert tally["read"] == N_LEADS + 4
    for line in (4, 5, 6):
        assert reason_of(quarantine, line) == "blank line: no lead"
    assert reason_of(quarantine, 204) == "the header line, repeated: no lead"


# --- 6. a cell over 128 KiB ------------------------------------------------------------------


def test_a_cell_over_128_kib_quarantines_its_line(export_bytes, score, tmp_path):
    lines = lines_of(export_bytes)
    lines[20] = with_field(lines[20], CITY, b"x" * 140_000)
    # A byte that is not UTF-8 sent the old reader to its line-by-line check, which crashed.
    lines[40] = with_field(lines[40], CITY, b"bogot\xe1")
    path = write_lines(lines, tmp_path / "leads.csv")
    scored, quarantine, tally = score(path)
    assert_every_line_accounted(path, scored, quarantine, tally)
    assert "over the 131,072-byte limit of one lead" in reason_of(quarantine, 21)
    assert reason_of(quarantine, 21).startswith("line is 140,")


@needs_shared
def test_a_cell_over_128_kib_in_the_real_export_is_one_quarantined_line(tmp_path):
    lines = lines_of(REAL_EXPORT.read_bytes())
    lines[500] = with_field(lines[500], CITY, b"y" * 200_000)
    path = write_lines(lines, tmp_path / "real.csv")
    leads = RawLeadsDataset(filepath=str(path)).load()
    assert len(leads) == len(lines) - 2
    ((line, lead_id, reason),) = leads.attrs["rejected_lines"]
    assert (line, lead_id) == (501, lines[500].split(b",")[0].decode())
    assert "byte limit" in reason


# --- 7. blank lead ids are traced by their line ------------------------------------------------


def test_scored_and_quarantined_leads_carry_their_line_even_without_a_lead_id(
    export_bytes, score, tmp_path
):
    lines = lines_of(export_bytes)
    lines[5] = with_field(lines[5], 0, b"")
    lines[8] = with_field(with_field(lines[8], 0, b""), 7, b"maybe")  # referred_lead broken
    path = write_lines(lines, tmp_path / "leads.csv")
    scored, quarantine, tally = score(path)
    assert_every_line_accounted(path, scored, quarantine, tally)
    assert scored.columns[0] == "line"
    assert 6 in set(scored["line"])
    assert scored.loc[scored["line"] == 6, "lead_id"].isna().all() or (
        scored.loc[scored["line"] == 6, "lead_id"].astype(str).str.fullmatch(r"\d+").all()
    )
    assert reason_of(quarantine, 9).startswith("referred_lead: flag 0 or 1 (got maybe)")


# --- 9. bytes that are not UTF-8 -------------------------------------------------------------


def test_cp1252_city_names_are_decoded_not_replaced(export_bytes, score, tmp_path, caplog):
    lines = lines_of(export_bytes)
    lines[30] = with_field(lines[30], CITY, b"bogot\xe1")
    lines[31] = with_field(lines[31], CITY, b"s\xe3o paulo")
    path = write_lines(lines, tmp_path / "leads.csv")
    export = RawLeadsDataset(filepath=str(path), chunked=True).load()
    leads = pd.concat([chunk.leads for chunk in export.read(1_000)])
    assert leads.loc[29:30, "city_mapped"].tolist() == ["bogotá", "são paulo"]
    scored, quarantine, tally = score(path)
    assert_every_line_accounted(path, scored, quarantine, tally)
    assert {31, 32} <= set(scored["line"])
    for frame in (scored, quarantine, leads):
        assert "\ufffd" not in frame.to_csv()
    assert "2 line(s) of leads.csv are not UTF-8 and were read as cp1252" in caplog.text


def test_a_line_no_encoding_reads_is_quarantined_saying_why(export_bytes, tmp_path):
    lines = lines_of(export_bytes)
    # 0xc3 0x28 is no UTF-8; with 0x81, which cp1252 leaves undefined, the guess may fail too.
    lines[12] = with_field(lines[12], CITY, b"\x81\xc3\x28\x90\x9d")
    path = write_lines(lines, tmp_path / "leads.csv")
    chunks = list(RawLeadsDataset(filepath=str(path), chunked=True).load().read(1_000))
    leads, rejected = chunks[0].leads, chunks[0].rejected
    if len(rejected):
        assert rejected["line"].tolist() == [13]
        assert "is not UTF-8" in rejected["reason"].iloc[0]
        assert len(leads) == N_LEADS - 1
    else:  # decoded with the encoding detected for it, never replaced
        assert "\ufffd" not in leads.loc[11, "city_mapped"]


# --- 5. duplicate header names -----------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_a_duplicate_column_name_stops_naming_the_column(chunked, export_cells, tmp_path):
    leads = export_cells.drop(columns=LABEL).head(20)
    other = leads["city_mapped"].str.upper()
    text = write_export(leads.assign(extra=other), tmp_path / "leads.csv").read_text()
    header, rest = text.split("\n", 1)
    path = tmp_path / "duplicate.csv"
    path.write_text(header.replace(",extra", ",city_mapped") + "\n" + rest)
    with pytest.raises(DatasetError) as caught:
        RawLeadsDataset(filepath=str(path), chunked=chunked).load()
    message = str(caught.value)
    assert "has the column 'city_mapped' twice (columns 3 and 46)" in message
    assert "\n" not in message


def test_a_clean_export_reads_every_line_once(export_bytes, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(export_bytes)
    chunks = list(RawLeadsDataset(filepath=str(path), chunked=True).load().read(70))
    assert [len(chunk.leads) for chunk in chunks] == [70, 70, 70, 70, 20]
    lines = [line for chunk in chunks for line in chunk.lines]
    assert lines == list(range(2, N_LEADS + 2))
    leads = pd.concat([chunk.leads for chunk in chunks])
    assert leads[INDEX].tolist() == [
        line.split(b",")[0].decode() for line in lines_of(export_bytes)[1:]
    ]
