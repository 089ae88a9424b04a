"""Reporting: plots, decile table, business summary, raw-data profile and the HTML model report."""

from lead_scoring.pipelines.reporting.html import render_realised_performance_page
from lead_scoring.pipelines.reporting.pipeline import create_pipeline
from lead_scoring.pipelines.reporting.segments import OTHER, segment_figures

__all__ = ["OTHER", "create_pipeline", "render_realised_performance_page", "segment_figures"]
