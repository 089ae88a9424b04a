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


def test_chunked_loading_reads_the_same_leads_and_lines_as_eager_loading(tmp_path, raw_export_path):
    text = raw_export_path.read_text().splitlines(keepends=True)
    path = tmp_path / "blank_lines.csv"
    # Blank lines shift every later record's file line: both loadings must say the same lines.
    path.write_text("".join(text[:5] + ["\n"] + text[5:40] + ["\n", "\n"] + text[40:]))
    eager = RawLeadsDataset(filepath=str(path)).load()
    chunks = list(RawLeadsDataset(filepath=str(path), chunked=True).load().read(17))
    assert {len(chunk.leads) for chunk in chunks[:-1]} == {17}
    pd.testing.assert_frame_equal(pd.concat([chunk.leads for chunk in chunks]), eager)
    assert [line for chunk in chunks for line in chunk.lines] == eager.attrs[
        "record_lines"
    ].lines.tolist()
    rejected = pd.concat([chunk.rejected for chunk in chunks])["line"].tolist()
    assert rejected == [line for line, _, _ in eager.attrs["rejected_lines"]] == [6, 42, 43]


def test_the_reader_modules_import_no_dataset_that_imports_them():
    """No import cycle: the line scan knows nothing of the dataset that reads through it."""
    import lead_scoring.datasets.export_lines as export_lines

    source = export_lines.__loader__.get_source(export_lines.__name__)
    assert "raw_leads_dataset" not in source and "lead_scoring.datasets" not in source


@pytest.mark.parametrize("block_bytes", [41, 64, 97])
def test_the_scan_reads_the_same_whatever_the_block_size(tmp_path, monkeypatch, block_bytes):
    """Lines, quoted line breaks and stray quotes cut by a block's end read as in one block.

    Blocks longer than any one record, as 4 MiB blocks always are.
    """
    import lead_scoring.datasets.export_lines as export_lines

    path = tmp_path / "hostile.csv"
    path.write_bytes(
        b'lead_id,city,notes\n1,Lisbon,plain\n2,Porto,"spans\ntwo lines"\n\n'
        b'3,S\xe3o Paulo,cp1252\n4,Braga,"stray\n5,Faro,quote"\n'
        b'6,Evora,"closed ""quoted"" value"\r\n7,Beja,"three\nline\nvalue"\n8,Viseu,last'
    )

    def read() -> tuple:
        leads = RawLeadsDataset(filepath=str(path)).load()
        return leads, leads.attrs["record_lines"].lines.tolist(), leads.attrs["rejected_lines"]

    whole, whole_lines, whole_rejected = read()
    monkeypatch.setattr(export_lines, "SCAN_BLOCK_BYTES", block_bytes)
    cut, cut_lines, cut_rejected = read()
    pd.testing.assert_frame_equal(cut, whole)
    assert whole["lead_id"].tolist() == ["1", "2", "3", "6", "7", "8"]
    assert cut_lines == whole_lines == [2, 3, 6, 9, 10, 13]
    assert [line for line, _, _ in cut_rejected] == [line for line, _, _ in whole_rejected]
    assert [line for line, _, _ in whole_rejected] == [5, 7, 8]
