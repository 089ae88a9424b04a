import copy

import numpy as np
import pandas as pd
import pytest

from lead_scoring.frames import (
    SharedFrame,
    arrays_in_order,
    column_arrays,
    column_labels,
    column_names,
    column_values,
    frame_of,
)


@pytest.fixture
def columns() -> dict:
    """One array of each kind the scoring core builds frames from."""
    return {
        "created_date": np.array(["2022-01-14T10:21:37", "NaT"], dtype="datetime64[ns]"),
        "city_mapped": pd.Categorical(["pune", "rare"], categories=["pune", "rare", "missing"]),
        "syllabus": np.array([1.0, np.nan], dtype="float32"),
        "app_complete_flag": np.array([1, 0], dtype="int8"),
        "lead_id": pd.array(["a", None], dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
    }


def test_a_frame_of_arrays_is_the_frame_pandas_builds(columns):
    index = pd.RangeIndex(5, 7)
    pd.testing.assert_frame_equal(frame_of(columns, index), pd.DataFrame(columns, index=index))


def test_object_text_stays_object_where_pandas_would_infer_its_own_text_type():
    reasons = {"reason_1": np.array(["Was referred, which raises the score.", None], dtype=object)}
    frame = frame_of(reasons, pd.RangeIndex(2))
    assert frame["reason_1"].dtype == object
    assert frame["reason_1"].tolist() == ["Was referred, which raises the score.", None]


def test_column_arrays_are_the_columns_own_arrays(columns):
    frame = pd.DataFrame(columns)
    arrays = column_arrays(frame)
    assert list(arrays) == list(frame.columns)
    for name, values in arrays.items():
        pd.testing.assert_series_equal(pd.Series(values, name=name), frame[name])


def test_two_columns_of_one_name_stay_two_in_order():
    frame = pd.DataFrame([[1, "x"]], columns=["city_mapped", "city_mapped"])
    assert [list(values) for values in arrays_in_order(frame)] == [[1], ["x"]]


def test_column_labels_are_built_once_and_take_a_dtype():
    assert column_labels(("a", "b")) is column_labels(("a", "b"))
    assert column_labels(("a", "b"), "object").dtype == object


def test_a_shared_frame_is_shared_by_deep_copies_and_frames_taken_from_it_are_plain():
    carried = SharedFrame(pd.DataFrame({"syllabus_interaction": [1.0, 2.0]}))
    answer = pd.DataFrame({"score": [40, 90]})
    answer.attrs["model_input"] = carried
    assert copy.deepcopy(carried) is carried
    assert answer["score"].attrs["model_input"] is carried
    assert type(carried.add_prefix("model_input__")) is pd.DataFrame
    assert type(carried.loc[[1]]) is pd.DataFrame


def test_a_frame_of_another_frames_arrays_is_that_frame(columns):
    # Several columns of one numpy type share a block; pandas' datetime array comes back as it.
    frame = pd.DataFrame(
        {**columns, "referred": np.array([0.0, 1.0], dtype="float32"), "note": ["a", None]}
    ).astype({"note": object})
    rebuilt = frame_of(column_arrays(frame), frame.index)
    pd.testing.assert_frame_equal(rebuilt, frame)
    assert column_names(rebuilt) == list(frame.columns)


def test_column_names_of_a_built_frame_are_its_own_and_a_copy():
    frame = frame_of({"a": np.array([1]), "b": np.array([2])}, pd.RangeIndex(1))
    names = column_names(frame)
    names.append("c")
    assert column_names(frame) == ["a", "b"]


def test_column_values_are_plain_python_values():
    mapping = pd.DataFrame({"interaction_type": ["whatsapp_chat_click", "syllabus_download"]})
    assert column_values(mapping, "interaction_type") == [
        "whatsapp_chat_click",
        "syllabus_download",
    ]
