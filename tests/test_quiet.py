"""The known library notices the project silences, and only those."""

from __future__ import annotations

import logging

from kedro_datasets.pandas import SQLQueryDataset

from lead_scoring.quiet import silence_known_noise


def test_kedro_s_exists_notice_for_the_store_query_is_dropped(caplog):
    silence_known_noise()
    store_query = SQLQueryDataset(sql="SELECT 1", credentials={"con": "sqlite://"})
    with caplog.at_level(logging.DEBUG):
        assert store_query.exists() is False
        logging.getLogger("kedro.io.core").warning("A notice the project does not know")
    assert [
        record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING
    ] == ["A notice the project does not know"]
