"""Synthetic daily exports: the generator's leads, one landing file per day of creation."""

from __future__ import annotations

import logging

import pandas as pd

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID

logger = logging.getLogger(__name__)


def daily_generator_settings(generate: dict, daily: dict) -> dict:
    """The generator's settings for ``days`` days from ``first_day``, ``leads_per_day`` a day."""
    first = pd.Timestamp(daily["first_day"])
    return {
        **generate,
        "start_date": first.strftime("%Y-%m-%d"),
        "end_date": (first + pd.Timedelta(days=daily["days"] - 1)).strftime("%Y-%m-%d"),
        "n_leads": daily["days"] * daily["leads_per_day"],
        "seed": daily["seed"],
    }


def split_by_day(
    leads: pd.DataFrame, daily: dict
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """One export per day of creation, without the label, and that day's outcomes apart.

    Files are named by date first, so they sort in the order they arrive. Each lead carries a
    CRM-style ``lead_id`` (its day and its place in that day's file, unique across days) beside
    pandas' index, which restarts at 0 in every file as a real feed's does.
    """
    day = leads[CREATED_DATE].str.slice(0, 10)
    exports, outcomes = {}, {}
    for date, rows in leads.groupby(day, sort=True):
        rows = rows.sort_values(CREATED_DATE, kind="stable").reset_index(drop=True)
        rows.insert(0, LEAD_ID, [f"{date.replace('-', '')}{n:05d}" for n in range(len(rows))])
        exports[f"{date}_leads"] = rows.drop(columns=[LABEL])
        outcomes[f"{date}_outcomes"] = rows[[LEAD_ID, LABEL]]
    logger.info(
        "Wrote %d daily export(s) of about %d leads, %s to %s; outcomes beside them.",
        len(exports),
        daily["leads_per_day"],
        min(exports, default="-")[:10],
        max(exports, default="-")[:10],
    )
    return exports, outcomes
