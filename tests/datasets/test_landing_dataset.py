"""The landing folder: the exports to read, whatever the case of their suffix; unfinished names
left; a file's content hash and whether its last line is finished."""

from __future__ import annotations

import pandas as pd

from lead_scoring.datasets import LandingDataset, RawLeadsDataset


def _landing(folder) -> LandingDataset:
    return LandingDataset(path=str(folder), dataset="lead_scoring.datasets.RawLeadsDataset")


def test_exports_are_listed_whatever_their_case_and_unfinished_names_are_left(tmp_path):
    for name in ("a.csv", "B.CSV", "c.csv.gz", "d.ZIP", ".e.csv", "f.csv.part", "g.tmp", "h.txt"):
        (tmp_path / name).write_text("x\n1\n")
    (tmp_path / "2022").mkdir()
    (tmp_path / "2022" / "i.Csv").write_text("x\n1\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "j.csv").write_text("x\n1\n")
    names = [f.name for f in _landing(tmp_path).load()]
    assert names == ["2022/i.Csv", "B.CSV", "a.csv", "c.csv.gz", "d.ZIP"]


def test_a_file_loads_with_its_reader_and_its_hash_follows_its_bytes(tmp_path):
    frame = pd.DataFrame({"created_date": ["2022-02-15 10:00:00"]})
    RawLeadsDataset(filepath=str(tmp_path / "day.csv")).save(frame)
    (listed,) = _landing(tmp_path).load()
    assert listed.load()["created_date"].tolist() == ["2022-02-15 10:00:00"]
    first = listed.content_hash()
    (tmp_path / "copy.csv").write_bytes((tmp_path / "day.csv").read_bytes())
    assert {f.content_hash() for f in _landing(tmp_path).load()} == {first}
    with (tmp_path / "day.csv").open("a") as handle:
        handle.write("1,2022-02-16 10:00")
    assert listed.content_hash() != first


def test_a_last_line_without_its_line_end_is_unfinished(tmp_path):
    (tmp_path / "done.csv").write_bytes(b"x\r\n1\r\n")
    (tmp_path / "writing.csv").write_bytes(b"x\n1\n2")
    (tmp_path / "empty.csv").write_bytes(b"")
    unfinished = {f.name: f.ends_mid_line() for f in _landing(tmp_path).load()}
    assert unfinished == {"done.csv": False, "empty.csv": False, "writing.csv": True}


def test_a_missing_folder_lists_nothing(tmp_path):
    assert _landing(tmp_path / "none").load() == []
