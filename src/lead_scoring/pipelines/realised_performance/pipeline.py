"""realised_performance: `kedro run --pipeline=realised_performance` measures the versions that
scored stored leads on their outcomes: the store's table, MLflow, a page and the segments."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.realised_performance.nodes import (
    champion_holdout_segments,
    champion_vocabulary,
    check_champion_realised_auc,
    compare_segments,
    find_current_champion,
    find_promised_figures,
    log_realised_performance,
    measure_realised_performance,
    measure_realised_segments,
    read_labelled_scores,
)
from lead_scoring.pipelines.reporting import render_realised_performance_page


def create_pipeline(**kwargs) -> Pipeline:
    """Read, measure, store; log, segment and draw; alert last, after everything is kept."""
    return Pipeline(
        [
            Node(
                read_labelled_scores,
                inputs="lead_store",
                outputs="labelled_scores",
                name="read_labelled_scores",
            ),
            Node(
                find_current_champion,
                inputs="lead_store",
                outputs="current_champion",
                name="find_current_champion",
            ),
            Node(
                measure_realised_performance,
                inputs=["labelled_scores", "params:realised_performance"],
                # Saved to the store and read back: every later node sees what was kept.
                outputs="realised_performance_table",
                name="measure_realised_performance",
            ),
            Node(
                find_promised_figures,
                inputs="realised_performance_table",
                outputs="promised_figures",
                name="find_promised_figures",
            ),
            Node(
                log_realised_performance,
                inputs=["realised_performance_table", "promised_figures"],
                outputs="realised_performance_logged",
                name="log_realised_performance",
            ),
            Node(
                champion_vocabulary,
                inputs=["promised_figures", "current_champion"],
                outputs="champion_vocabulary",
                name="champion_vocabulary",
            ),
            Node(
                measure_realised_segments,
                inputs=[
                    "labelled_scores",
                    "current_champion",
                    "champion_vocabulary",
                    "city_tiers",
                    "params:feature_engineering",
                    "params:realised_performance",
                ],
                outputs="realised_segments",
                name="measure_realised_segments",
            ),
            Node(
                champion_holdout_segments,
                inputs=["promised_figures", "current_champion"],
                outputs="champion_holdout_segments",
                name="champion_holdout_segments",
            ),
            Node(
                compare_segments,
                inputs=["champion_holdout_segments", "realised_segments", "current_champion"],
                outputs="segments",
                name="compare_segments",
            ),
            Node(
                render_realised_performance_page,
                inputs=[
                    "realised_performance_table",
                    "promised_figures",
                    "segments",
                    "current_champion",
                ],
                outputs="realised_performance_page",
                name="render_realised_performance_page",
            ),
            # After the table, the MLflow log and the page: an alert never loses any of them.
            Node(
                check_champion_realised_auc,
                inputs=[
                    "realised_performance_table",
                    "current_champion",
                    "realised_performance_logged",
                    "realised_performance_page",
                    "params:realised_performance",
                ],
                outputs=None,
                name="check_champion_realised_auc",
            ),
        ],
        tags="realised_performance",
    )
