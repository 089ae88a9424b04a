import pandas as pd
import pytest
from kedro.io import DatasetError

from lead_scoring.datasets import RawLeadsDataset


def test_save_writes_the_export_format_with_an_unnamed_index(tmp_path):
    frame = pd.DataFrame({"created_date": ["2021-08-01 10:00:00"], "referred_lead": [1.0]})
    path = tmp_path / "leads.csv"
    RawLeadsDataset(filepath=str(path)).save(frame)
    assert path.read_text().splitlines() == [
        ",created_date,referred_lead",
        "0,2021-08-01 10:00:00,1.0",
    ]


def test_bom_semicolons_and_windows_line_endings_read_like_a_plain_export(
    tmp_path, raw_export_path
):
    plain = RawLeadsDataset(filepath=str(raw_export_path)).load()
    text = raw_export_path.read_text()
    odd = tmp_path / "odd.csv"
    odd.write_bytes("\ufeff".encode() + text.replace(",", ";").replace("\n", "\r\n").encode())
    loaded = RawLeadsDataset(filepath=str(odd)).load()
    pd.testing.assert_frame_equal(loaded, plain)


def test_every_cell_is_read_as_text(raw_export_path):
    loaded = RawLeadsDataset(filepath=str(raw_export_path)).load()
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in loaded.dtypes)
    assert loaded["total_leads_droppped"].dropna().str.fullmatch(r"\d+\.0").all()


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_an_empty_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match="is empty"):
        RawLeadsDataset(filepath=str(path)).load()


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        RawLeadsDataset(filepath=str(tmp_path / "nope.csv")).load()
