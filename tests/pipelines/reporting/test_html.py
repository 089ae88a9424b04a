"""The HTML pages: self-contained, with every plot embedded and this run's numbers."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest
from markupsafe import escape

from lead_scoring.datasets import ReportFigureDataset
from lead_scoring.pipelines.reporting import html, nodes
from lead_scoring.pipelines.reporting.segments import segment_figures

EMBEDDED_PNG = re.compile(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def assert_self_contained(page: str) -> None:
    """No script, no stylesheet link and no resource fetched from anywhere."""
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


@pytest.fixture
def report(
    holdout_predictions,
    holdout_metrics,
    tier_cuts,
    reporting_params,
    backtest_table,
    registered_model,
    tmp_path,
) -> str:
    dataset = ReportFigureDataset(filepath=str(tmp_path / "roc.png"))
    dataset.save(nodes.plot_roc_curves(holdout_predictions, holdout_metrics))
    png = dataset.load()
    business_summary, _ = nodes.summarise_business_impact(holdout_predictions, tier_cuts)
    quarantined = pd.DataFrame(
        {"column": ["referred_lead", "referred_lead", "created_date"], "rule": ["flag 0 or 1"] * 3}
    )
    return html.render_model_report(
        holdout_metrics=holdout_metrics,
        business_summary=business_summary,
        decile_table=nodes.build_decile_table(holdout_predictions, reporting_params),
        validation_summary={
            "rows_read": 5_003,
            "rows_quarantined": 3,
            "rows_valid": 5_000,
            "duplicates_removed": 0,
            "rows_kept": 5_000,
            "quarantine_share": 3 / 5_003,
        },
        quarantined_leads=quarantined,
        mlflow_run_info={
            "report_created": "2022-03-01 09:00",
            "tracking_uri": "sqlite:///mlflow.db",
            "registered_model": "lead_scoring",
            "experiment_id": "1",
            "experiment_name": "lead_scoring",
            "run_id": "0123456789abcdef",
            "run_name": "<train>",
            "artifact_uri": "mlruns/1/0123456789abcdef/artifacts",
        },
        operating_threshold=0.5,
        backtest_table=backtest_table,
        registered_model=registered_model,
        holdout_segments=segment_figures(
            holdout_predictions.assign(first_platform_c="Level<1>"), min_leads=1, min_outcomes=1
        ),
        **{key: png for key, _, _ in html.PLOTS},
    )


def test_report_embeds_every_plot_as_a_png(report):
    images = EMBEDDED_PNG.findall(report)
    assert [alt for alt, _ in images] == [title for _, title, _ in html.PLOTS]
    for _, encoded in images:
        assert base64.b64decode(encoded).startswith(b"\x89PNG")
    assert_self_contained(report)


def test_report_shows_this_runs_numbers(report, holdout_predictions, tier_cuts):
    summary, _ = nodes.summarise_business_impact(holdout_predictions, tier_cuts)
    assert "0.812" in report  # ROC AUC headline
    assert "0.8123" in report and "0.7823" in report  # model and baseline in the metrics table
    assert f"{summary['calls_saved_per_1000_leads']:.0f}" in report
    for sentence in nodes.business_sentences(summary):
        assert escape(sentence) in report
    assert f"{summary['tiers']['cold']['leads']:,}" in report
    # Validation summary and the most frequent quarantine reason.
    assert "5,003" in report
    assert "referred_lead: flag 0 or 1" in report
    # MLflow identifiers, escaped.
    assert "0123456789abcdef" in report and "sqlite:///mlflow.db" in report
    assert "&lt;train&gt;" in report and "<train>" not in report


def test_report_decile_table_has_ten_rows(report):
    section = report.split("<h2>Deciles</h2>")[1].split("</table>")[0]
    assert section.count("<tr>") == 11  # header and ten deciles
    assert "cumulative share of completers" in section


def raw_export(**columns: list[str]) -> pd.DataFrame:
    """Two raw leads as text, with one unexpected column; ``columns`` replace the defaults."""
    return pd.DataFrame(
        {
            "created_date": ["2021-07-01 10:00:00", "2021-08-01 11:00:00"],
            "city_mapped": ["mumbai", None],
            "first_platform_c": ["Level0", "Level3"],
            "first_utm_medium_c": ["Level0", "Level0"],
            "first_utm_source_c": ["Level2", "Level2"],
            "total_leads_droppped": ["1", "3"],
            "referred_lead": ["0", "1"],
            "app_complete_flag": ["0", "1"],
            "extra": ["x", "y"],
        }
        | columns,
        dtype="str",
    )


def profile_page(raw: pd.DataFrame, interaction_mapping, city_tiers) -> tuple[dict, str]:
    profile = nodes.profile_raw_leads(
        raw,
        interaction_mapping,
        city_tiers,
        "Unnamed: 0",
        3,
        {"top_levels": 5, "leads_dropped_cap": 8, "type_sample_size": 100},
    )
    return profile, html.render_data_profile(profile)


def test_profile_page_lists_columns_and_distributions(interaction_mapping, city_tiers):
    profile, page = profile_page(raw_export(), interaction_mapping, city_tiers)
    assert_self_contained(page)
    assert "2 rows of the export" in page
    assert "Missing columns: " in page and "whatsapp_chat_click" in page
    assert "Columns the pipeline ignores: extra" in page
    assert '<span style="width:50.0%">' in page
    assert "Platform of first visit" in page and "Level3" in page
    # One chart per distribution, embedded as a PNG.
    assert page.count('src="data:image/png;base64,') == len(profile["distributions"])


def test_report_shows_tier_promises_out_of_time_the_backtest_and_the_registered_model(report):
    # Realised on the holdout next to the targets.
    assert "83.1%" in report and "&gt;= 85%" in report
    assert "6.3%" in report and "&lt;= 5%" in report
    # Every backtest and holdout month with its ROC AUC.
    for month, auc in (("2021-11", "0.8011"), ("2021-12", "0.7922"), ("2022-01", "0.7833")):
        assert month in report and auc in report
    assert "25,000 leads up to 2022-02-28 23:50:00" in report


def test_the_profile_shows_markup_in_a_level_label_or_column_name_as_text(
    interaction_mapping, city_tiers
):
    label = '<script>alert("x")</script>'
    raw = raw_export(**{"first_platform_c": [label, "Level3"], "<i>notes</i>": ["x", "y"]})
    _, page = profile_page(raw, interaction_mapping, city_tiers)
    assert_self_contained(page)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "Columns the pipeline ignores: extra, &lt;i&gt;notes&lt;/i&gt;." in page
    assert "<i>" not in page


def test_report_shows_holdout_segments_and_links_the_realised_performance(
    report, holdout_predictions
):
    section = report.split('<h2 id="segments">Segments</h2>')[1].split("</table>")[0]
    assert "Level&lt;1&gt;" in section and f"{len(holdout_predictions):,}" in section
    assert '<a href="realised_performance.html">' in report
