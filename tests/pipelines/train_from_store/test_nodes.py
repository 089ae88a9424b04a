"""The store's labelled leads as a labelled export, over a window of months."""

from __future__ import annotations

import pandas as pd
import pytest

from lead_scoring.datasets.lead_store import LeadStore
from lead_scoring.pipelines.ingest.lead_files import read_lead_file
from lead_scoring.pipelines.train_from_store.nodes import (
    NoLabelledLeadsError,
    labelled_leads_from_store,
)

LABEL = "app_complete_flag"


@pytest.fixture
def stored(tmp_path, raw_leads, parameters, interaction_mapping) -> pd.DataFrame:
    """The labelled export ingested into a store, read back as the catalog's SQL query does."""
    store = LeadStore(f"sqlite:///{tmp_path / 'lead_store.db'}")
    # Keyed by a CRM's lead_id (here the generator's row numbers): the export's index is not.
    crm_export = raw_leads.rename(columns={"Unnamed: 0": "lead_id"})
    store.ingest_file(
        read_lead_file(
            "a.csv",
            crm_export,
            interaction_mapping,
            parameters["ingestion"],
            parameters["validation"],
        )
    )
    with store.engine.connect() as connection:
        return pd.read_sql("SELECT * FROM leads WHERE app_complete_flag IS NOT NULL", connection)


def test_the_window_keeps_the_latest_months_in_the_export_format(stored, raw_leads, parameters):
    export = labelled_leads_from_store(stored, parameters["ingestion"], {"window_months": 2})
    created = pd.to_datetime(export["created_date"])
    newest = pd.to_datetime(stored["created_date"]).max()
    assert created.min() > newest - pd.DateOffset(months=2)
    assert (
        len(export)
        == (pd.to_datetime(stored["created_date"]) > newest - pd.DateOffset(months=2)).sum()
    )
    assert list(export.columns) == list(raw_leads.columns)
    original = raw_leads.set_index("Unnamed: 0")
    rows = export.set_index("Unnamed: 0")
    assert (rows[LABEL] == original.loc[rows.index, LABEL]).all()


def test_no_window_trains_on_every_labelled_lead(stored, parameters):
    export = labelled_leads_from_store(stored, parameters["ingestion"], {"window_months": None})
    assert len(export) == len(stored)


def test_a_store_without_labels_stops_with_one_line(stored, parameters):
    with pytest.raises(NoLabelledLeadsError, match="holds no labelled lead"):
        labelled_leads_from_store(stored.iloc[:0], parameters["ingestion"], {"window_months": 12})
