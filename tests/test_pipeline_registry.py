"""The registry reads as the flow, and every pipeline reuses the others through their public names."""

from __future__ import annotations

import ast
import logging

from lead_scoring.pipeline_aliases import ALIASES, PipelineAliasHook
from lead_scoring.pipeline_registry import register_pipelines
from tests.conftest import PROJECT_ROOT

PIPELINES = PROJECT_ROOT / "src" / "lead_scoring" / "pipelines"
# What users type: `kedro run --pipeline=<key>` (README.md, docs/, Makefile, Airflow).
KEYS = {"train", "batch_scoring", "ingest", "score_new", "train_from_store", "generate"}
KEYS |= {"generate_daily", "ingestion", "reporting", "lead_model", "__default__"}
KEYS |= {"realised_performance", "promote"}
# Compositions of packages, named for what they do.
COMPOSITIONS = {"train", "__default__"}


def test_the_keys_users_type_are_registered_and_name_their_packages():
    pipelines = register_pipelines()
    assert set(pipelines) == KEYS | set(ALIASES)
    packages = {path.name for path in PIPELINES.iterdir() if (path / "pipeline.py").is_file()}
    assert packages >= KEYS - COMPOSITIONS


def test_the_old_keys_run_the_same_pipelines_and_say_their_new_names(caplog):
    pipelines = register_pipelines()
    assert ALIASES == {"inference": "batch_scoring", "scoring": "lead_model"}
    for old, new in ALIASES.items():
        assert pipelines[old].nodes == pipelines[new].nodes
    with caplog.at_level(logging.WARNING, logger="lead_scoring.pipeline_aliases"):
        PipelineAliasHook().before_pipeline_run({"pipeline_names": ["inference"]})
        PipelineAliasHook().before_pipeline_run({"pipeline_names": ["batch_scoring"]})
    assert [r.getMessage() for r in caplog.records] == [
        "`--pipeline=inference` is the old name of `--pipeline=batch_scoring`, kept for this "
        "release only: type the new name."
    ]


def test_packages_compose_nothing_the_registry_composes():
    composing = []
    for path in sorted(PIPELINES.glob("*/pipeline.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            calls_a_factory = isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            if calls_a_factory and call.func.attr.startswith("create_"):
                composing.append(f"{path.relative_to(PIPELINES)} calls {call.func.attr}")
    assert composing == []


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
    core = {node.name for node in pipelines["lead_model"].nodes}
    # The stages training runs, namespaced onto the served leads' datasets: not copies.
    assert {"lead_model.normalise_raw_leads", "lead_model.validate_raw_leads"} <= core
    assert "lead_model.build_model_input" in core
    train = pipelines["train"]
    assert {node.name for node in train.inference.nodes} == core
    assert train.input_name == "scoring_leads"
    for key in ("train", "train_from_store"):
        assert hasattr(pipelines[key], "inference"), f"{key} no longer registers the model"


def test_a_new_export_flows_to_scored_leads_and_then_to_monitoring():
    batch = register_pipelines()["batch_scoring"]
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


def test_score_new_scores_the_stored_leads_with_batch_scorings_and_monitorings_nodes():
    pipelines = register_pipelines()
    loop = {node.name: node for node in pipelines["score_new"].nodes}
    batch = {node.name: node for node in pipelines["batch_scoring"].nodes}
    for role, leads in [
        ("champion", "leads_to_score"),
        ("challenger", "challenger_leads_to_score"),
    ]:
        # The same functions, one box each in kedro-viz, on the stored leads.
        for name in ("score_export", "count_batch"):
            assert loop[f"{role}.{name}"].func is batch[name].func
        assert leads in loop[f"{role}.score_export"].inputs
    for name in ("load_drift_reference", "profile_scored_batch", "compare_with_reference"):
        assert loop[f"champion.{name}"].func is batch[name].func
    assert loop["champion.compare_with_reference"].outputs == ["new_scores_drift"]
    # The challenger scores after the champion's scores are stored.
    assert "stored_scores" in loop["select_challenger_leads"].inputs
    assert pipelines["score_new"].inputs() == {
        "lead_store",
        "params:inference",
        "params:inference.model",
        "params:monitoring",
        "params:score_new",
    }
