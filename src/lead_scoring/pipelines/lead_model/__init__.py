from lead_scoring.pipelines.lead_model import (
    request_guard,  # noqa: F401 -- guards the server
    served_json,  # noqa: F401 -- writes its answers
)
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
