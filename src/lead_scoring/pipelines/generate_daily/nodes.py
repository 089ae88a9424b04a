"""Synthetic daily exports after the default export: leads as a CRM sends them, outcomes later.

Each day is drawn on its own, from a seed of its own, in the default export's world (its levels,
effects, cities and completion intercept) at the state the export's last day left it. A day's
leads are then the same whichever run draws them, so a later run can deliver the outcomes of an
earlier run's leads.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID
from lead_scoring.errors import LeadScoringError
from lead_scoring.pipelines.generate import completion_intercept, rng_stream, simulate_leads

logger = logging.getLogger(__name__)

DAY = pd.Timedelta(days=1)


class DailySettingsError(LeadScoringError):
    """The daily generator's settings describe no exports."""


def series_start(generate: dict) -> pd.Timestamp:
    """The day the daily series starts: the day after the default export's last day."""
    return pd.Timestamp(generate["end_date"]) + DAY


def export_days(generate: dict, daily: dict) -> pd.DatetimeIndex:
    """The days this run writes exports for: ``days`` days from ``first_day``."""
    first = pd.Timestamp(daily["first_day"]) if daily.get("first_day") else series_start(generate)
    if int(daily["days"]) < 1 or float(daily["leads_per_day"]) <= 0:
        raise DailySettingsError(
            f"generate_daily writes no export: days is {daily['days']} and leads_per_day is "
            f"{daily['leads_per_day']}; set both above 0."
        )
    if int(daily["outcome_delay_days"]) < 0:
        raise DailySettingsError(
            "generate_daily.outcome_delay_days must be 0 or more days "
            f"(got {daily['outcome_delay_days']})."
        )
    return pd.date_range(first, periods=int(daily["days"]), freq="D")


def reference_intercept(
    city_tiers: pd.DataFrame, interaction_mapping: pd.DataFrame, generate: dict, daily: dict
) -> float:
    """The default export's completion intercept, so later days complete as its last days did."""
    reference = {**generate, "n_leads": daily.get("reference_leads") or generate["n_leads"]}
    intercept = completion_intercept(city_tiers, interaction_mapping, reference)
    logger.info("Completion intercept of the default export's world: %.4f", intercept)
    return intercept


def day_settings(generate: dict, daily: dict, day: pd.Timestamp, n_leads: int, intercept: float):
    """The generator's settings for the leads of one day of the default export's world."""
    return {
        **generate,
        "n_leads": n_leads,
        "created_from": day.strftime("%Y-%m-%d"),
        "created_to": day.strftime("%Y-%m-%d"),
        # One seed per day: the day's leads do not depend on which run draws them.
        "draw_seed": int(daily["seed"]) * 100_000_000 + int(day.strftime("%Y%m%d")),
        "label_intercept": intercept,
        # A CRM exports a lead once a day; repeats are the feed's business, not the generator's.
        "duplicate_rate": 0.0,
    }


def day_volume(generate: dict, daily: dict, day: pd.Timestamp) -> int:
    """How many leads a day brings: the mean, by weekday, campaign pushes and chance."""
    if not daily.get("vary_volume", True):
        return int(daily["leads_per_day"])
    timing = generate["timing"]
    weekday = np.asarray(timing["weekday_weights"], float)
    rng = rng_stream(int(daily["seed"]), f"volume/{day:%Y%m%d}")
    shape = 1.0 / timing["daily_volume_cv"] ** 2
    mean = daily["leads_per_day"] * weekday[day.weekday()] / weekday.mean()
    return max(1, int(rng.poisson(mean * rng.gamma(shape, 1.0 / shape))))


def leads_of_day(
    city_tiers: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    generate: dict,
    daily: dict,
    day: pd.Timestamp,
    intercept: float,
) -> pd.DataFrame:
    """One day's leads with their outcome, in creation order, each with its CRM id."""
    settings = day_settings(generate, daily, day, day_volume(generate, daily, day), intercept)
    leads = simulate_leads(city_tiers, interaction_mapping, settings)
    leads = leads.sort_values(CREATED_DATE, kind="stable", ignore_index=True)
    # The CRM's id: the day and the lead's place in it, unique across days.
    leads.index = pd.Index(
        [f"L{day:%Y%m%d}-{n:06d}" for n in range(1, len(leads) + 1)], name=LEAD_ID
    )
    return leads


def generate_daily_exports(
    city_tiers: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    generate: dict,
    daily: dict,
    intercept: float,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Each day's lead export (no label), and each day's outcome export as outcomes arrive.

    The outcomes of day D are those of the leads created ``outcome_delay_days`` before D. Files
    are named by date first, the day's leads before its outcomes, so they sort in arrival order.
    """
    days = export_days(generate, daily)
    delay = int(daily["outcome_delay_days"]) * DAY
    # Outcomes of leads before the series would name leads no daily export delivered.
    first_labelled = min(days[0], series_start(generate))
    arrivals = {day: day - delay for day in days if day - delay >= first_labelled}
    leads = {
        day: leads_of_day(city_tiers, interaction_mapping, generate, daily, day, intercept)
        for day in sorted({*days, *arrivals.values()})
    }
    # As a CRM's feed through pandas: the lead_id column, beside pandas' index, which restarts
    # at 0 in every file and names no lead.
    exports = {
        f"{day:%Y-%m-%d}_leads": leads[day].drop(columns=[LABEL]).reset_index() for day in days
    }
    outcomes = {
        f"{day:%Y-%m-%d}_outcomes": leads[created][[LABEL]].reset_index()
        for day, created in arrivals.items()
    }
    logger.info(
        "Wrote %d daily lead export(s), %s to %s, %d leads; %d outcome export(s), each of the "
        "leads created %d day(s) before.",
        len(exports),
        days[0].date(),
        days[-1].date(),
        sum(map(len, exports.values())),
        len(outcomes),
        delay.days,
    )
    return exports, outcomes
