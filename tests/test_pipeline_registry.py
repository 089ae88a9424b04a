"""The registry reads as the flow, and every pipeline reuses the others through their public names."""

from __future__ import annotations

import ast

from lead_scoring.pipeline_registry import register_pipelines
from tests.conftest import PROJECT_ROOT

PIPELINES = PROJECT_ROOT / "src" / "lead_scoring" / "pipelines"
# What users type: `kedro run --pipeline=<key>` (README.md, docs/, Makefile, Airflow).
KEYS = {"train", "inference", "ingest", "score_new", "train_from_store", "generate"}
KEYS |= {"generate_daily", "ingestion", "reporting", "scoring", "__default__"}
KEYS |= {"realised_performance"}


def test_the_keys_users_type_are_registered():
    assert set(register_pipelines()) >= KEYS


def test_no_pipeline_imports_another_pipelines_internals():
    reaches = []
    for path in sorted(PIPELINES.rglob("*.py")):
        own = path.relative_to(PIPELINES).parts[0]
        for statement in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(statement, ast.ImportFrom) or not statement.module:
                continue
            parts = statement.module.split(".")
            if parts[:2] == ["lead_scoring", "pipelines"] and len(parts) > 3 and parts[2] != own:
                reaches.append(f"{path.relative_to(PIPELINES)} imports {statement.module}")
    assert reaches == []


def test_the_registered_model_runs_the_training_stages_themselves():
    pipelines = register_pipelines()
    core = {node.name for node in pipelines["scoring"].nodes}
    # The stages training runs, namespaced onto the served leads' datasets: not copies.
    assert {"lead_model.normalise_raw_leads", "lead_model.validate_raw_leads"} <= core
    assert "lead_model.build_model_input" in core
    train = pipelines["train"]
    assert {node.name for node in train.inference.nodes} == core
    assert train.input_name == "scoring_leads"
    for key in ("train", "train_from_store"):
        assert hasattr(pipelines[key], "inference"), f"{key} no longer registers the model"


def test_a_new_export_flows_to_scored_leads_and_then_to_monitoring():
    batch = register_pipelines()["inference"]
    produced_by = {output: node.name for node in batch.nodes for output in node.outputs}
    assert produced_by["scored_chunks"] == "score_export"
    assert produced_by["scored_leads"] == "list_scored_leads"
    assert produced_by["drift_report"] == "compare_with_reference"
    # Scoring reads the export and the model; monitoring what scoring wrote.
    assert batch.inputs() == {
        "new_leads",
        "params:inference",
        "params:inference.model",
        "params:monitoring",
    }
