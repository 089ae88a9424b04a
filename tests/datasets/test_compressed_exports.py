"""Compressed deliveries: gzip (whatever its name) and one-file zips read as the CSV they hold."""

from __future__ import annotations

import bz2
import gzip
import zipfile

import pandas as pd
import pytest

from lead_scoring.datasets import RawLeadsDataset
from lead_scoring.errors import LeadScoringError, UnreadableExportError


@pytest.fixture
def plain(raw_export_path) -> pd.DataFrame:
    return RawLeadsDataset(filepath=str(raw_export_path)).load()


def gzipped(path, data: bytes):
    path.write_bytes(gzip.compress(data))
    return path


def zipped(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["leads.csv", "leads.csv.gz", "LEADS.CSV"])
def test_a_gzip_export_is_read_whatever_its_name(tmp_path, raw_export_path, plain, name):
    path = gzipped(tmp_path / name, raw_export_path.read_bytes())
    pd.testing.assert_frame_equal(RawLeadsDataset(filepath=str(path)).load(), plain)


def test_a_zip_of_one_csv_is_read_and_macos_extras_do_not_count(tmp_path, raw_export_path, plain):
    data = raw_export_path.read_bytes()
    path = zipped(
        tmp_path / "leads.zip", {"export/leads.csv": data, "__MACOSX/export/._leads.csv": b"\0"}
    )
    pd.testing.assert_frame_equal(RawLeadsDataset(filepath=str(path)).load(), plain)


def test_batch_scoring_reads_a_gzip_export_in_chunks(tmp_path, raw_export_path, plain):
    path = gzipped(tmp_path / "leads.csv.gz", raw_export_path.read_bytes())
    export = RawLeadsDataset(filepath=str(path), chunked=True).load()
    chunks = list(export.read(1_000))
    assert [len(chunk.leads) for chunk in chunks] == [1_000, 1_000, 1_000]
    pd.testing.assert_frame_equal(pd.concat([chunk.leads for chunk in chunks]), plain)
    assert chunks[1].lines[0] == 1_002


def test_a_utf16_export_inside_gzip_is_read(tmp_path):
    text = "created_date,city_mapped\n2021-08-01 10:00:00,pune\n"
    path = gzipped(tmp_path / "leads.csv", text.encode("utf-16"))
    loaded = RawLeadsDataset(filepath=str(path)).load()
    assert loaded.to_dict("list") == {
        "created_date": ["2021-08-01 10:00:00"],
        "city_mapped": ["pune"],
    }


def one_line_refusal(path) -> str:
    with pytest.raises(UnreadableExportError) as refusal:
        RawLeadsDataset(filepath=str(path)).load()
    message = str(refusal.value)
    assert "\n" not in message and str(path) in message and "Nothing was read" in message
    # The store records it as every refusal of a file, and Kedro passes it on unwrapped.
    assert isinstance(refusal.value, LeadScoringError)
    return message


def test_a_zip_of_several_files_is_refused_in_one_line(tmp_path, raw_export_path):
    data = raw_export_path.read_bytes()
    path = zipped(tmp_path / "leads.zip", {"a.csv": data, "b.csv": data})
    assert "a zip of 2 files (a.csv, b.csv)" in one_line_refusal(path)


def test_an_empty_zip_is_refused_in_one_line(tmp_path):
    assert "a zip of 0 files (nothing)" in one_line_refusal(zipped(tmp_path / "e.zip", {}))


def test_a_gzip_cut_short_is_refused_in_one_line(tmp_path, raw_export_path):
    whole = gzip.compress(raw_export_path.read_bytes())
    path = tmp_path / "leads.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    assert "a gzip archive that cannot be read" in one_line_refusal(path)


def test_a_damaged_zip_is_refused_in_one_line(tmp_path, raw_export_path):
    path = zipped(tmp_path / "leads.zip", {"leads.csv": raw_export_path.read_bytes()})
    data = bytearray(path.read_bytes())
    data[200:400] = bytes(200)
    path.write_bytes(bytes(data))
    assert "a zip archive that cannot be read" in one_line_refusal(path)


def test_another_archive_is_named_and_refused(tmp_path, raw_export_path):
    path = tmp_path / "leads.csv.bz2"
    path.write_bytes(bz2.compress(raw_export_path.read_bytes()))
    assert "is a bzip2 archive: only gzip and zip" in one_line_refusal(path)
