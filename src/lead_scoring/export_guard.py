"""`kedro run --pipeline=generate` never replaces an existing export without being asked.

Its default target is also the training export: a 2,000-lead test run once replaced a
240,000-lead export without a word.
"""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl

from lead_scoring.errors import LeadScoringError

GENERATED_EXPORT = "generated_raw_leads"


class ExportExistsError(LeadScoringError):
    """The generate pipeline would replace an existing export."""


class ExistingExportGuardHook:
    """Stops a generate run whose target export exists, unless generate.overwrite is true."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        if GENERATED_EXPORT not in pipeline.all_outputs() or not catalog.exists(GENERATED_EXPORT):
            return
        if catalog.load("params:generate").get("overwrite", False) is True:
            return
        path = catalog.config_resolver.resolve_pattern(GENERATED_EXPORT)["filepath"]
        raise ExportExistsError(
            f"{path} already exists and generate does not replace it: write elsewhere with "
            "--params=generated_leads_path=data/01_raw/other_leads.csv, or replace it with "
            "--params=generate.overwrite=true."
        )
