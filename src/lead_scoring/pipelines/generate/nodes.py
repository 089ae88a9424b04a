"""Nodes that simulate a raw lead export: origins, clicks, a latent completion label, duplicates.

Every random draw comes from a numpy Generator derived from a seed and a stream name, so a seed
always yields the same export and each part stays reproducible on its own. ``params["seed"]``
makes the world (the tail levels, the effects of levels and cities, the town names);
``params["draw_seed"]`` (default: the same) draws the leads in it, so later leads of the same
world differ from the export's. Level ids are integers (the N of ``LevelN``) until the export is
assembled. The latent label model is described in docs/synthetic_data.md.
"""

from __future__ import annotations

import zlib
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from lead_scoring.contract import LABEL, MEDIUM, ORIGIN_COLUMNS, PLATFORM, SOURCE
from lead_scoring.errors import LeadScoringError

# The generator's short names for the raw schema's level columns.
LEVEL_COLUMNS = {"platform": PLATFORM, "medium": MEDIUM, "source": SOURCE}


class GeneratorSettingsError(LeadScoringError):
    """The generator's settings describe no export."""


# Syllables for made-up town names: pronounceable, and unlike the reference cities.
_ONSETS = np.array(
    ["b", "bh", "ch", "d", "dh", "g", "h", "j", "k", "kh", "l", "m"]
    + ["n", "p", "r", "s", "sh", "t", "th", "v", "y", "z"]
)
_VOWELS = np.array(["a", "aa", "e", "i", "o", "u", "ai", "ee"])
_CODAS = np.array(["", "", "n", "r", "l", "m", "t", "k"])
_SUFFIXES = np.array(
    ["", "", "", "pur", "nagar", "abad", "garh", "ganj", "pet", "wadi", "kot", "halli", "palli"]
)
_SECOND_WORDS = np.array(["nagar", "road", "east", "west", "junction", "colony", "bazar"])


def rng_stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator of one named part of the simulation."""
    # Separate streams keep a part reproducible when another part changes its number of draws;
    # crc32 rather than hash() because string hashes are salted per process.
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def draw_stream(params: dict[str, Any], name: str) -> np.random.Generator:
    """Return the generator of one part of the leads' draws (not of the world they live in)."""
    return rng_stream(params.get("draw_seed", params["seed"]), name)


def creation_window(params: dict[str, Any]) -> tuple[str, str]:
    """The first and last day leads are created: by default the whole date range.

    ``created_from`` and ``created_to`` draw leads on other days of the same world: after
    ``end_date``, levels and completion stay where the range left them.
    """
    first = params.get("created_from") or params["start_date"]
    return first, params.get("created_to") or params["end_date"]


def n_duplicates(params: dict[str, Any]) -> int:
    """Return how many of the n_leads rows are copies of another row."""
    return int(round(params["n_leads"] * params["duplicate_rate"]))


def level_id(level: str) -> int:
    """Return N for a 'LevelN' string."""
    return int(level.removeprefix("Level"))


def expit(x: np.ndarray) -> np.ndarray:
    """Return the logistic function of x without overflow warnings."""
    return np.exp(-np.logaddexp(0.0, -x))


def solve_intercept(log_odds: np.ndarray, target: float) -> float:
    """Return b so that the mean of expit(log_odds + b) equals target."""
    # Bisection: the mean is monotone in b, and 60 halvings of [-30, 30] are exact enough.
    low, high = -30.0, 30.0
    for _ in range(60):
        mid = (low + high) / 2
        if expit(log_odds + mid).mean() < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def level_table(mapping: dict[str, Any], table: np.ndarray) -> np.ndarray:
    """Return ``table``, indexed by level id, with the values given for 'LevelN' keys set."""
    for level, value in mapping.items():
        table[level_id(level)] = value
    return table


def knot_curve(t: np.ndarray, knots: Any) -> np.ndarray:
    """Interpolate at times t the knots that sit at the middles of equal slices of the range."""
    knots = np.atleast_1d(np.asarray(knots, float))
    return np.interp(t, (np.arange(knots.size) + 0.5) / knots.size, knots)


def zipf_shares(n: int, offset: float, exponent: float) -> np.ndarray:
    """Return Zipf-Mandelbrot shares for ranks 1..n."""
    weights = (np.arange(1, n + 1) + offset) ** -exponent
    return weights / weights.sum()


def sample_created_dates(
    n: int, start_date: str, end_date: str, timing: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Draw lead creation times over the range with weekly, daily and hourly rhythm."""
    start = np.datetime64(start_date, "D")
    n_days = int((np.datetime64(end_date, "D") - start).astype(int)) + 1
    # 1970-01-01 was a Thursday, so (days since epoch + 3) % 7 is 0 on Mondays.
    weekday = (start.astype(int) + np.arange(n_days) + 3) % 7
    shape = 1.0 / timing["daily_volume_cv"] ** 2
    day_weights = np.asarray(timing["weekday_weights"], float)[weekday]
    day_weights = day_weights * rng.gamma(shape, 1.0 / shape, n_days)
    day = rng.choice(n_days, size=n, p=day_weights / day_weights.sum())
    hour_weights = np.asarray(timing["hour_weights"], float)
    hour = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    seconds = day * 86_400 + hour * 3600 + rng.integers(0, 3600, n)
    return start.astype("datetime64[s]") + seconds


def range_fraction(created: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Return each timestamp's position in the date range, from 0 to 1."""
    start = np.datetime64(params["start_date"], "D").astype("datetime64[s]")
    end = (np.datetime64(params["end_date"], "D") + 1).astype("datetime64[s]")
    return (created - start).astype(float) / float((end - start).astype(int))


def tail_levels(spec: dict[str, Any], seed: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the ids outside the head, ranked, with their shares of the tail."""
    head = {level_id(level) for level in spec["head"]}
    ids = np.array([i for i in range(spec["max_level"] + 1) if i not in head])
    rng = rng_stream(seed, f"vocabulary/{name}")
    # Low ids are old levels and tend to be busier; the noise lets some young ones be busy too.
    order = np.argsort(np.log1p(ids) + rng.normal(0.0, 1.0, ids.size))
    return ids[order], zipf_shares(ids.size, spec["tail_zipf_offset"], spec["tail_zipf_exponent"])


def head_shares(t: np.ndarray, spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return head ids and each lead's probability of each head level at its time."""
    ids = np.array([level_id(level) for level in spec["head"]])
    weights = np.column_stack([knot_curve(t, knots) for knots in spec["head"].values()])
    total = np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    return ids, weights / total * (1.0 - spec["tail_share"])


def static_level_shares(
    spec: dict[str, Any], seed: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return every id and its share averaged over the date range."""
    head_ids, head_p = head_shares(np.linspace(0.0, 1.0, 101), spec)
    tail_ids, tail_p = tail_levels(spec, seed, name)
    return (
        np.concatenate([head_ids, tail_ids]),
        np.concatenate([head_p.mean(axis=0), tail_p * spec["tail_share"]]),
    )


def sample_levels(
    t: np.ndarray, spec: dict[str, Any], seed: int, name: str, rng: np.random.Generator
) -> np.ndarray:
    """Draw one level id per lead from the time-varying head and the static tail."""
    head_ids, head_p = head_shares(t, spec)
    # Inverse-CDF over the head columns; leads beyond the head's cumulative share go to the tail.
    pick = (rng.random(t.size)[:, None] >= np.cumsum(head_p, axis=1)).sum(axis=1)
    in_tail = pick == head_ids.size
    ids = head_ids[np.minimum(pick, head_ids.size - 1)]
    tail_ids, tail_p = tail_levels(spec, seed, name)
    ids[in_tail] = rng.choice(tail_ids, size=int(in_tail.sum()), p=tail_p)
    return ids


def home_table(homes: dict[str, str], size: int) -> np.ndarray:
    """Return an array mapping a level id to its home level id, -1 where it has none."""
    home_ids = {level: level_id(home) for level, home in homes.items()}
    return level_table(home_ids, np.full(size, -1, dtype=np.int64))


def static_medium_shares(params: dict[str, Any]) -> np.ndarray:
    """Return every medium id's share averaged over the range, platform ties included."""
    seed, levels, medium = params["seed"], params["levels"], params["levels"]["medium"]
    ids, shares = static_level_shares(medium, seed, "medium")
    marginal = np.zeros(medium["max_level"] + 1)
    marginal[ids] = shares
    platform_ids, platform_shares = static_level_shares(levels["platform"], seed, "platform")
    home = home_table(medium["platform_homes"], levels["platform"]["max_level"] + 1)[platform_ids]
    tied = platform_shares * (home >= 0) * medium["platform_home_share"]
    return marginal * (1.0 - tied.sum()) + np.bincount(
        home[home >= 0], weights=tied[home >= 0], minlength=marginal.size
    )


def medium_home_sources(params: dict[str, Any]) -> np.ndarray:
    """Return the campaign source of every medium id: listed ones, else drawn by unmet share."""
    seed, medium, source = params["seed"], params["levels"]["medium"], params["levels"]["source"]
    homes = home_table(source["medium_homes"], medium["max_level"] + 1)
    source_ids, source_shares = static_level_shares(source, seed, "source")
    target = np.zeros(source["max_level"] + 1)
    target[source_ids] = source_shares
    # Listed homes already give their sources this much; unlisted mediums fill what is left.
    medium_shares = static_medium_shares(params)
    listed = homes >= 0
    given = np.bincount(homes[listed], weights=medium_shares[listed], minlength=target.size)
    unmet = np.clip(target - given * source["medium_home_share"], 0.0, None) + 1e-6
    unset = homes < 0
    rng = rng_stream(seed, "vocabulary/medium_home_sources")
    homes[unset] = rng.choice(target.size, size=int(unset.sum()), p=unmet / unmet.sum())
    return homes


def sample_channels(
    t: np.ndarray, params: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draw platform, then medium (partly tied to platform), then source (tied to medium)."""
    seed, levels = params["seed"], params["levels"]
    platform = sample_levels(t, levels["platform"], seed, "platform", rng)
    medium = sample_levels(t, levels["medium"], seed, "medium", rng)
    # An app's own campaign or a referral app brings most of its leads through one medium.
    spec = levels["medium"]
    home = home_table(spec["platform_homes"], levels["platform"]["max_level"] + 1)[platform]
    use_home = (home >= 0) & (rng.random(t.size) < spec["platform_home_share"])
    medium = np.where(use_home, home, medium)
    # A medium is a campaign tag, so it nearly fixes the source; the rest is mis-tagged traffic.
    source = sample_levels(t, levels["source"], seed, "source", rng)
    tagged = rng.random(t.size) < levels["source"]["medium_home_share"]
    source = np.where(tagged, medium_home_sources(params)[medium], source)
    return {"platform": platform, "medium": medium, "source": source}


def synthetic_town_names(
    size: int, exclude: set[str], share_two_words: float, seed: int
) -> list[str]:
    """Return `size` distinct made-up lower-case town names not in `exclude`."""
    rng = rng_stream(seed, "vocabulary/towns")
    k = 3 * size
    parts = [_ONSETS, _VOWELS, _ONSETS, _VOWELS, _CODAS, _SUFFIXES]
    names = reduce(np.char.add, [rng.choice(part, k) for part in parts])
    second = np.char.add(" ", rng.choice(_SECOND_WORDS, k))
    names = np.where(rng.random(k) < share_two_words, np.char.add(names, second), names)
    towns = [str(name) for name in pd.unique(names) if str(name) not in exclude]
    if len(towns) < size:
        raise ValueError(f"Could only make {len(towns)} distinct town names, {size} requested.")
    return towns[:size]


def city_shares(
    city_tiers: pd.DataFrame, spec: dict[str, Any], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return every city name and its share among leads that have a city."""
    rng = rng_stream(seed, "vocabulary/cities")
    named = spec["city_shares"]
    names: list[str] = []
    tier_shares: list[np.ndarray] = []
    for tier, tier_share in spec["reference_tier_shares"].items():
        cities = city_tiers.loc[city_tiers["tier"] == int(tier), "city"].tolist()
        listed = [city for city in cities if city in named]
        others = [city for city in cities if city not in named]
        listed_shares = np.array([named[city] for city in listed], float)
        rest = max(tier_share - listed_shares.sum(), 0.0)
        # The tier's remaining share goes to its other cities, Zipf-like in a seeded order.
        others = list(rng.permutation(np.array(others, dtype=object)))
        other_shares = zipf_shares(len(others), 0.0, spec["reference_zipf_exponent"]) * rest
        names += listed + others
        tier_shares += [listed_shares, other_shares]
    shares = np.concatenate(tier_shares)
    towns = synthetic_town_names(
        spec["unlisted_pool_size"], set(city_tiers["city"]), spec["two_word_share"], seed
    )
    town_shares = zipf_shares(
        len(towns), spec["unlisted_zipf_offset"], spec["unlisted_zipf_exponent"]
    ) * max(1.0 - shares.sum(), 0.0)
    all_shares = np.concatenate([shares, town_shares])
    return np.array(names + towns, dtype=object), all_shares / all_shares.sum()


def sample_referred(
    channels: dict[str, np.ndarray],
    has_city: np.ndarray,
    params: dict[str, Any],
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw the referred flag from platform and medium; never for leads without a city."""
    spec, levels = params["referred"], params["levels"]
    platform = level_table(spec["platform_log_odds"], np.zeros(levels["platform"]["max_level"] + 1))
    medium = level_table(spec["medium_log_odds"], np.zeros(levels["medium"]["max_level"] + 1))
    log_odds = platform[channels["platform"]] + medium[channels["medium"]]
    # In the real export no referred lead lacks a city: referrals come with a filled profile.
    target = spec["share"] / max(has_city.mean(), 1e-9)
    intercept = solve_intercept(log_odds[has_city], min(target, 1.0))
    return has_city & (rng.random(has_city.size) < expit(log_odds + intercept))


def sample_lead_counts(
    referred: np.ndarray, params: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Draw total_leads_droppped; referred people check a few more courses."""
    spec = params["leads_dropped"]
    head = np.asarray(spec["head_pmf"], float)
    tail = np.arange(head.size + 1, spec["max"] + 1) ** -float(spec["tail_exponent"])
    pmf = np.concatenate(
        [head / head.sum() * (1 - spec["tail_share"]), tail / tail.sum() * spec["tail_share"]]
    )
    pmf = pmf / pmf.sum()
    counts = 1 + rng.choice(pmf.size, size=referred.size, p=pmf)
    extra = rng.geometric(params["referred"]["extra_leads_dropped_p"], referred.size) - 1
    return np.minimum(counts + referred * extra, spec["max"]).astype(float)


def check_generator_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The generator's settings, once they describe an export that can exist."""
    first, last = creation_window(params)
    if pd.Timestamp(last) < pd.Timestamp(first) or int(params["n_leads"]) < 1:
        raise GeneratorSettingsError(
            f"generate writes no export of {params['n_leads']} lead(s) created from "
            f"{first} to {last}: set generate.n_leads to 1 or more "
            "and generate.end_date on or after generate.start_date."
        )
    return params


def sample_lead_origins(city_tiers: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Draw the distinct leads' origin columns; level columns hold integer ids."""
    n = params["n_leads"] - n_duplicates(params)
    rng = draw_stream(params, "origins")
    created = sample_created_dates(n, *creation_window(params), params["timing"], rng)
    channels = sample_channels(range_fraction(created, params), params, rng)
    names, shares = city_shares(city_tiers, params["cities"], params["seed"])
    cities = names[rng.choice(names.size, size=n, p=shares)]
    cities[rng.random(n) < params["cities"]["missing_share"]] = np.nan
    referred = sample_referred(channels, pd.notna(cities), params, rng)
    counts = sample_lead_counts(referred, params, rng)
    origins = pd.DataFrame(
        {
            "created_date": created,
            "city_mapped": cities,
            **{LEVEL_COLUMNS[name]: ids for name, ids in channels.items()},
            "total_leads_droppped": counts,
            "referred_lead": referred.astype(float),
        }
    )
    # Both count columns are lost together, as in the real export.
    lost = rng.random(n) < params["leads_dropped"]["missing_share"]
    origins.loc[lost, ["total_leads_droppped", "referred_lead"]] = np.nan
    return origins


def sample_interactions(
    lead_origins: pd.DataFrame, interaction_mapping: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Draw the 37 click-count columns: almost always empty, heavy-tailed when not."""
    spec = params["interactions"]
    rng = draw_stream(params, "interactions")
    columns = interaction_mapping["interaction_type"].tolist()
    n = len(lead_origins)
    size = params["levels"]["platform"]["max_level"] + 1
    multipliers = level_table(spec["platform_multipliers"], np.ones(size))
    weight = multipliers[lead_origins[PLATFORM].to_numpy()]
    # Multipliers move clicks between platforms while the overall share stays lead_share.
    clicking = np.flatnonzero(rng.random(n) < spec["lead_share"] * weight / weight.mean())
    shares = np.array([spec["click_shares"].get(c, spec["default_click_share"]) for c in columns])
    intensity = rng.lognormal(spec["intensity_mean_log"], spec["intensity_sd_log"], clicking.size)
    # Heavier clickers touch more elements: each share is raised to a power below one.
    breadth = 1.0 + np.log1p(intensity)[:, None]
    touched = rng.random((clicking.size, len(columns))) < 1.0 - (1.0 - shares) ** breadth
    # A clicking lead has at least one element; pick it by share where none was touched.
    untouched = np.flatnonzero(~touched.any(axis=1))
    touched[untouched, rng.choice(len(columns), untouched.size, p=shares / shares.sum())] = True
    gamma = rng.gamma(spec["element_gamma_shape"], 1 / spec["element_gamma_shape"], touched.shape)
    counts = 1 + rng.poisson(intensity[:, None] * gamma)
    values = np.full((n, len(columns)), np.nan)
    values[clicking] = np.where(touched, counts, np.nan)
    return pd.DataFrame(values, columns=columns, index=lead_origins.index)


def level_effects(ids: np.ndarray, name: str, params: dict[str, Any]) -> np.ndarray:
    """Return each lead's effect of one level column: listed, else N(0, tail_sd) by seed."""
    label, size = params["label"], params["levels"][name]["max_level"] + 1
    drawn = rng_stream(params["seed"], f"effects/{name}").normal(0.0, label["tail_sd"][name], size)
    return level_table(label[name], drawn)[ids]


def level_drift(ids: dict[str, np.ndarray], t: np.ndarray, drift: dict[str, Any]) -> np.ndarray:
    """Return each lead's drifting level effect: knots at slice middles, interpolated in time."""
    shift = np.zeros(t.size)
    for name, levels in drift.items():
        for level, knots in (levels or {}).items():
            shift += np.where(ids[name] == level_id(level), knot_curve(t, knots), 0.0)
    return shift


def level_classes(name: str, classes: dict[str, list[str]], params: dict[str, Any]) -> np.ndarray:
    """Return the hidden class index of every level id: listed, else drawn uniformly by seed."""
    size = params["levels"][name]["max_level"] + 1
    drawn = rng_stream(params["seed"], f"classes/{name}").integers(0, len(classes), size)
    listed = {level: index for index, levels in enumerate(classes.values()) for level in levels}
    return level_table(listed, drawn)


def class_interaction_effects(
    platform: np.ndarray, medium: np.ndarray, label: dict[str, Any], params: dict[str, Any]
) -> np.ndarray:
    """Return the device-class x channel-class effect of each lead."""
    matrix = np.array(
        [[row[c] for c in label["medium_classes"]] for row in label["class_interaction"].values()]
    )
    platform_class = level_classes("platform", label["platform_classes"], params)[platform]
    medium_class = level_classes("medium", label["medium_classes"], params)[medium]
    return matrix[platform_class, medium_class]


def city_effects(cities: pd.Series, city_tiers: pd.DataFrame, params: dict[str, Any]) -> np.ndarray:
    """Return tier effect plus a reference city's own effect; unlisted or missing is tier 3."""
    label, rng = params["label"], rng_stream(params["seed"], "effects/city")
    reference = city_tiers["city"].to_numpy()
    own = dict(zip(reference, rng.normal(0.0, label["city_sd"], reference.size), strict=True))
    tier_effect = {
        c: label["tier"][int(t)] for c, t in zip(reference, city_tiers["tier"], strict=True)
    }
    tier = cities.map(tier_effect).fillna(label["tier"][3]).to_numpy(float)
    return tier + cities.map(own).fillna(0.0).to_numpy(float)


def interaction_group_effects(
    lead_interactions: pd.DataFrame, interaction_mapping: pd.DataFrame, label: dict[str, Any]
) -> np.ndarray:
    """Return the summed effect of log(1 + clicks) in each interaction group."""
    total = np.zeros(len(lead_interactions))
    groups = interaction_mapping.set_index("interaction_type")["interaction_mapping"]
    for group, effect in label["interaction_groups"].items():
        clicks = lead_interactions[groups.index[groups == group]].fillna(0.0).to_numpy().sum(axis=1)
        total += effect * np.log1p(clicks)
    return total


def latent_log_odds(
    lead_origins: pd.DataFrame,
    lead_interactions: pd.DataFrame,
    city_tiers: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    params: dict[str, Any],
    rng: np.random.Generator,
) -> np.ndarray:
    """Return each lead's completion log-odds with its unobserved intent, before the intercept."""
    label = params["label"]
    ids = {name: lead_origins[column].to_numpy() for name, column in LEVEL_COLUMNS.items()}
    log_odds = sum(level_effects(ids[name], name, params) for name in LEVEL_COLUMNS)
    t = range_fraction(lead_origins["created_date"].to_numpy("datetime64[s]"), params)
    log_odds = log_odds + level_drift(ids, t, label.get("drift", {}))
    log_odds = log_odds + class_interaction_effects(ids["platform"], ids["medium"], label, params)
    # Medium x source: a source that is not the medium's campaign source marks junk traffic.
    off_home = ids["source"] != medium_home_sources(params)[ids["medium"]]
    log_odds = log_odds + label["off_home_source"] * off_home
    log_odds = log_odds + city_effects(lead_origins["city_mapped"], city_tiers, params)
    # The label reflects what happened, not what the export kept: empty counts read as 1 and 0.
    referred = lead_origins["referred_lead"].fillna(0.0).to_numpy()
    counts = lead_origins["total_leads_droppped"].fillna(1.0).to_numpy().astype(int)
    dropped = np.asarray(label["leads_dropped"], float)
    log_odds = log_odds + label["referred"] * referred
    log_odds = log_odds + dropped[np.minimum(counts, dropped.size) - 1]
    hour = pd.DatetimeIndex(lead_origins["created_date"]).hour.to_numpy()
    log_odds = log_odds + np.asarray(label["hour"], float)[hour]
    log_odds = log_odds + interaction_group_effects(lead_interactions, interaction_mapping, label)
    # Unobserved intent: what the export cannot show caps how well any model can do.
    return log_odds + rng.normal(0.0, label["noise_sd"], log_odds.size)


def draw_completion_labels(
    lead_origins: pd.DataFrame,
    lead_interactions: pd.DataFrame,
    city_tiers: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Draw app_complete_flag from the latent logistic model plus unobserved intent.

    The intercept makes these leads complete at ``base_rate``, unless ``label_intercept`` gives
    the one of a wider range (leads of a later week complete as that range's end did).
    """
    rng = draw_stream(params, "labels")
    log_odds = latent_log_odds(
        lead_origins, lead_interactions, city_tiers, interaction_mapping, params, rng
    )
    intercept = params.get("label_intercept")
    if intercept is None:
        intercept = solve_intercept(log_odds, params["label"]["base_rate"])
    probability = expit(log_odds + intercept)
    flag = (rng.random(probability.size) < probability).astype(np.int64)
    return pd.DataFrame({LABEL: flag}, index=lead_origins.index)


def completion_intercept(
    city_tiers: pd.DataFrame, interaction_mapping: pd.DataFrame, params: dict[str, Any]
) -> float:
    """Return the intercept an export of ``params`` gets: its leads complete at ``base_rate``."""
    origins = sample_lead_origins(city_tiers, params)
    interactions = sample_interactions(origins, interaction_mapping, params)
    rng = draw_stream(params, "labels")
    log_odds = latent_log_odds(origins, interactions, city_tiers, interaction_mapping, params, rng)
    return solve_intercept(log_odds, params["label"]["base_rate"])


def assemble_raw_export(
    lead_origins: pd.DataFrame,
    lead_interactions: pd.DataFrame,
    completion_labels: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Join the parts, add exact duplicate rows and shuffle, as a real export looks."""
    rng = draw_stream(params, "export")
    # The origin columns as the export writes them: text dates and LevelN strings.
    origins = lead_origins.copy()
    text = np.datetime_as_string(lead_origins["created_date"].to_numpy("datetime64[s]"), unit="s")
    origins["created_date"] = np.char.replace(text, "T", " ")
    for column in LEVEL_COLUMNS.values():
        origins[column] = np.char.add("Level", lead_origins[column].to_numpy().astype(str))
    origins = origins[list(ORIGIN_COLUMNS)]
    leads = pd.concat([origins, lead_interactions, completion_labels], axis=1)
    # The same lead exported twice: an exact copy, label included.
    copies = rng.choice(len(leads), size=n_duplicates(params), replace=False)
    leads = pd.concat([leads, leads.iloc[copies]], ignore_index=True)
    # Real exports are not sorted by date.
    return leads.iloc[rng.permutation(len(leads))].reset_index(drop=True)


def simulate_leads(
    city_tiers: pd.DataFrame, interaction_mapping: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Run the generator's nodes on ``params`` in one call: the export the pipeline would write."""
    origins = sample_lead_origins(city_tiers, params)
    interactions = sample_interactions(origins, interaction_mapping, params)
    labels = draw_completion_labels(origins, interactions, city_tiers, interaction_mapping, params)
    return assemble_raw_export(origins, interactions, labels, params)
