"""The registered model carries only the code scoring imports, and scores without the project."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from lead_scoring.model_code import imported_modules
from tests.pipelines.batch_scoring.conftest import BROKEN, tracking_store
from tests.test_model_code import carried_code, run_isolated

pytestmark = pytest.mark.slow
SOURCE = Path(__file__).resolve().parents[3] / "src" / "lead_scoring"


@pytest.fixture(scope="module")
def champion(scored_project, tmp_path_factory) -> Path:
    """The champion's files, as `mlflow models serve` downloads them."""
    with tracking_store(scored_project):
        return Path(
            mlflow.artifacts.download_artifacts(
                "models:/lead_scoring@champion", dst_path=str(tmp_path_factory.mktemp("champion"))
            )
        )


def test_the_model_s_code_folder_holds_only_the_modules_scoring_imports(champion):
    code = champion / "code"
    carried = {path.relative_to(code) for path in code.rglob("*") if path.is_file()}
    expected = {
        Path("lead_scoring") / source.relative_to(SOURCE)
        for source in imported_modules(carried_code().roots).values()
    }
    assert carried == expected
    for absent in ["airflow_tasks.py", "local_airflow.py", "run_summary.py", "quiet.py"]:
        assert Path("lead_scoring") / absent not in carried
    assert not any(path.parts[:3] == ("lead_scoring", "pipelines", "generate") for path in carried)


def test_the_registered_model_scores_like_the_batch_where_the_project_is_absent(
    champion, scored_project, tmp_path
):
    # The first 100 leads of the export the batch scored, blanks sent as missing, no label.
    leads = pd.read_csv(
        scored_project / "data" / "01_raw" / "new_leads.csv", dtype=str, nrows=100
    ).drop(columns="app_complete_flag")
    leads.to_parquet(tmp_path / "leads.parquet")
    result = run_isolated(
        "--model",
        str(champion),
        "--leads",
        str(tmp_path / "leads.parquet"),
        "--scores",
        str(tmp_path / "scores.parquet"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = json.loads(result.stdout.splitlines()[-1])
    assert "lead_scoring.pipelines.lead_model.nodes" in imported
    assert all(Path(file).is_relative_to(champion.resolve() / "code") for file in imported.values())

    answers = pd.read_parquet(tmp_path / "scores.parquet")
    assert answers["lead_id"].tolist() == leads["Unnamed: 0"].tolist()
    quarantined = answers["status"] == "quarantined"
    assert set(answers.index[quarantined]) == set(BROKEN)
    batch = (
        pd.read_csv(
            scored_project / "data" / "07_model_output" / "scored_leads.csv", dtype={"lead_id": str}
        )
        .drop_duplicates("lead_id")
        .set_index("lead_id")
    )
    scored = answers.loc[~quarantined].set_index("lead_id")
    expected = batch.loc[scored.index]
    pd.testing.assert_series_equal(scored["probability"], expected["probability"], atol=1e-9)
    for column in ["score", "tier", "reason_1", "reason_2", "reason_3"]:
        assert scored[column].tolist() == expected[column].tolist(), column
