"""Reporting: plots, decile table, business summary, raw-data profile and the HTML model report."""

from lead_scoring.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
