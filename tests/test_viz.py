"""`kedro viz build`: the static lineage site builds offline and shows the project's pipelines."""

from __future__ import annotations

import base64
import json
import shutil

import pytest

from tests.conftest import run_kedro

pytestmark = pytest.mark.slow

PIPELINES = {
    *("generate", "ingestion", "train", "lead_model", "batch_scoring", "reporting", "__default__"),
    # The old keys of batch_scoring and lead_model, kept one release.
    *("inference", "scoring"),
    *("ingest", "score_new", "train_from_store", "generate_daily", "realised_performance"),
    "promote",
}
LAYERS = ["raw", "intermediate", "primary", "model_input", "models", "model_output", "reporting"]


@pytest.fixture(scope="module")
def site(trained_project, tmp_path_factory):
    """The build directory of `kedro viz build --include-previews` in a copy of the trained project."""
    project = tmp_path_factory.mktemp("viz") / "project"
    shutil.copytree(trained_project, project, ignore=shutil.ignore_patterns("build", "mlruns"))
    run_kedro(project, "viz", "build", "--include-previews", timeout=300)
    return project / "build"


def test_the_site_lists_every_registered_pipeline(site):
    assert (site / "index.html").is_file()
    main = json.loads((site / "api" / "main").read_text())
    assert {pipeline["id"] for pipeline in main["pipelines"]} == PIPELINES
    for pipeline in PIPELINES:
        assert (site / "api" / "pipelines" / pipeline).is_file()
    train = json.loads((site / "api" / "pipelines" / "train").read_text())
    names = {node["name"] for node in train["nodes"]}
    assert {"raw_leads", "train_catboost", "lead_scoring_model", "model_report"} <= names
    assert {"reporting", "training", "validation", "plots"} <= {tag["id"] for tag in main["tags"]}


def test_every_persisted_dataset_has_a_layer(site):
    main = json.loads((site / "api" / "main").read_text())
    persisted = [
        node
        for node in main["nodes"]
        if node["type"] == "data"
        and node.get("dataset_type")
        and not node["dataset_type"].endswith("MemoryDataset")
        and not node["name"].endswith("_mlflow")  # metrics logged to MLflow, no file
    ]
    assert {node["name"] for node in persisted if not node.get("layer")} == set()


def test_layers_order_the_flow_from_raw_to_reporting(site):
    layers = json.loads((site / "api" / "pipelines" / "train").read_text())["layers"]
    # kedro-viz drops every layer when they form a cycle, e.g. a `models` dataset that feeds
    # `model_input` while `model_input` feeds `models`.
    assert [layer for layer in layers if layer in LAYERS] == LAYERS, (
        "kedro-viz shows no layers: a dataset's layer feeds an earlier layer "
        "(see the 'circular dependency' warning of `kedro viz build`)"
    )


def test_plots_are_previewed_as_images(site):
    main = json.loads((site / "api" / "main").read_text())
    (roc,) = (node for node in main["nodes"] if node["name"] == "roc_curve_plot")
    assert roc["layer"] == "reporting"
    details = json.loads((site / "api" / "nodes" / roc["id"]).read_text())
    assert details["preview_type"] == "ImagePreview"
    assert base64.b64decode(details["preview"]).startswith(b"\x89PNG")
