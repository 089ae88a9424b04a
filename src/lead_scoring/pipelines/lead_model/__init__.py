from lead_scoring.pipelines.lead_model import scoring_server  # noqa: F401 -- adapts the server
from lead_scoring.pipelines.lead_model.nodes import (
    assign_tiers,
    calibrate_probabilities,
    explain_predictions,
    log_odds,
    predict_probabilities,
    probability_to_score,
    score_cuts,
)
from lead_scoring.pipelines.lead_model.pipeline import (
    LABEL_CHECK,
    NAMESPACE,
    SCORING_INPUT,
    SCORING_OUTPUT,
    create_pipeline,
)

__all__ = [
    "LABEL_CHECK",
    "NAMESPACE",
    "SCORING_INPUT",
    "SCORING_OUTPUT",
    "assign_tiers",
    "calibrate_probabilities",
    "create_pipeline",
    "explain_predictions",
    "log_odds",
    "predict_probabilities",
    "probability_to_score",
    "score_cuts",
]
