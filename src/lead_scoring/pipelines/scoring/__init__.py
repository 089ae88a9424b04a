from lead_scoring.pipelines.scoring import request_guard  # noqa: F401 -- guards the server
from lead_scoring.pipelines.scoring.pipeline import create_pipeline

__all__ = ["create_pipeline"]
