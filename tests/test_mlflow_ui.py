"""What the MLflow UI is told about a run's training data."""

from __future__ import annotations

from lead_scoring.hooks import training_source


def test_a_train_run_names_its_export_and_train_from_store_the_store_file():
    store = "sqlite:////srv/project/data/03_primary/lead_store.db"
    assert training_source(["train"], None, store) == "data/01_raw/leads.csv"
    assert training_source(["train"], "/exports/mine.csv", store) == "/exports/mine.csv"
    assert training_source(["train_from_store"], None, store) == (
        "/srv/project/data/03_primary/lead_store.db"
    )
    # A server database is no file MLflow can name: no dataset rather than a wrong one.
    server = "postgresql+psycopg://scoring@db.example.com:5432/leads"
    assert training_source(["train_from_store"], "/exports/mine.csv", server) is None
