"""lead_scoring: score online-course leads on their chance to complete an application."""

__version__ = "0.1.0"

# The filters only: kedro-mlflow (and MLflow) is imported when a run needs it (lazy_mlflow).
from lead_scoring.quiet import silence_known_noise

silence_known_noise()
