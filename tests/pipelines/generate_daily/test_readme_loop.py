"""The README's loop: every step it needs, in an order that works, with parameters that exist."""

from __future__ import annotations

import re

import pandas as pd

from lead_scoring.pipeline_registry import register_pipelines
from lead_scoring.pipelines.generate_daily.nodes import export_days
from tests.conftest import PROJECT_ROOT


def readme_loop() -> list[str]:
    """The commands of the README's "The loop that runs itself", comments dropped."""
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text.split("## The loop that runs itself", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block, "the README's loop has no bash block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def pipelines_of(commands: list[str]) -> list[str]:
    return [m.group(1) for c in commands if (m := re.search(r"--pipeline=(\w+)", c))]


def test_every_step_names_a_pipeline_the_project_has():
    registered = register_pipelines()
    for pipeline in pipelines_of(readme_loop()):
        assert pipeline in registered, pipeline


def test_outcomes_are_ingested_before_training_from_the_store():
    """train_from_store needs labelled leads: generated outcomes, then ingested, come first."""
    steps = pipelines_of(readme_loop())
    training = steps.index("train_from_store")
    assert "generate_daily" in steps[:training]
    assert steps.index("ingest", steps.index("generate_daily")) < training
    # New leads after the retrain are ingested and scored too, then both versions are measured
    # on the outcomes that arrived and promotion decides between them.
    assert steps[training + 1 :] == [
        "generate_daily",
        "ingest",
        "score_new",
        "realised_performance",
        "promote",
    ]


def test_the_second_delivery_starts_the_day_after_the_first_one_ends(parameters):
    commands = [c for c in readme_loop() if "--pipeline=generate_daily" in c]
    first = export_days(parameters["generate"], parameters["generate_daily"])
    (second_day,) = re.findall(r"generate_daily\.first_day=(\S+)", commands[1])
    assert pd.Timestamp(second_day) == first[-1] + pd.Timedelta(days=1)
    assert first[0] == pd.Timestamp(parameters["generate"]["end_date"]) + pd.Timedelta(days=1)
    # More days than the outcome delay: the first training has outcomes to learn from.
    assert len(first) > parameters["generate_daily"]["outcome_delay_days"]
