"""`python -m lead_scoring`, the `lead-scoring` script: the project's own `run` command."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT, kedro_env


def test_python_m_lead_scoring_offers_the_project_s_run_command():
    result = subprocess.run(
        [sys.executable, "-m", "lead_scoring", "--help"],
        cwd=PROJECT_ROOT,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "Run the pipeline." in result.stdout
    assert "--pipeline" in result.stdout
