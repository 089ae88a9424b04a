"""The registry's keys of the last release, kept one release: a run under one says its new key."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

# Old key: the key it now runs under (the package's name). Removed in the release after next.
ALIASES = {"inference": "batch_scoring", "scoring": "lead_model"}


class PipelineAliasHook:
    """Says once, at the start of a run under an old key, the key that replaces it."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        for name in run_params["pipeline_names"] or []:
            if name in ALIASES:
                logger.warning(
                    "`--pipeline=%s` is the old name of `--pipeline=%s`, kept for this release "
                    "only: type the new name.",
                    name,
                    ALIASES[name],
                )
