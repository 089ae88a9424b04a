"""Training: temporal splits, the CatBoost model, a logistic baseline, tier cuts and metrics."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lead_scoring.contract import COLD, CREATED_DATE, HOT, LABEL, LEAD_ID, TIERS
from lead_scoring.heavy_types import CatBoostClassifier
from lead_scoring.pipelines.feature_engineering import CATEGORICAL_FEATURES, feature_columns
from lead_scoring.pipelines.lead_model import (
    assign_tiers,
    calibrate_probabilities,
    log_odds,
    predict_probabilities,
    probability_to_score,
)
from lead_scoring.tracking import as_mlflow_metrics

if TYPE_CHECKING:
    from catboost import Pool

logger = logging.getLogger(__name__)

# The hot cut when no score reaches the precision: above the highest score, 99.
NO_HOT_SCORE = 100


def _split_latest(frame: pd.DataFrame, share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier rows and the latest ``share`` of rows by creation time."""
    order = frame[CREATED_DATE].rank(method="first")
    latest = order > len(frame) * (1 - share)
    return frame.loc[~latest], frame.loc[latest]


def split_by_time(leads: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out the latest leads by ``created_date``; the model never sees them in fitting."""
    fit, holdout = _split_latest(leads, params["holdout_share"])
    logger.info(
        "Temporal split: %d fitting leads up to %s, %d holdout leads from %s",
        len(fit),
        fit[CREATED_DATE].max(),
        len(holdout),
        holdout[CREATED_DATE].min(),
    )
    return fit, holdout


def split_train_validation(
    model_input_fit: pd.DataFrame, params: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest slice of the fitting rows validates early stopping and the tier cuts."""
    return _split_latest(model_input_fit, params["validation_share"])


def recency_weights(created: pd.Series, half_life_days: float | None) -> np.ndarray:
    """Sample weights that halve every ``half_life_days`` back from the newest lead; 1 if unset."""
    if not half_life_days:
        return np.ones(len(created))
    age_days = (created.max() - created).dt.total_seconds().to_numpy() / 86_400
    return np.exp2(-age_days / half_life_days)


def catboost_classifier(params: dict, iterations: int | None = None) -> CatBoostClassifier:
    """An unfitted CatBoost with the project's settings; ``iterations`` fixes the tree count."""
    from catboost import CatBoostClassifier

    settings = {k: v for k, v in params["catboost"].items() if k != "early_stopping_rounds"}
    if iterations is not None:
        settings["iterations"] = iterations
    return CatBoostClassifier(
        **settings,
        random_seed=params["random_seed"],
        allow_writing_files=False,
        verbose=False,
    )


def train_catboost(
    train: pd.DataFrame, validation: pd.DataFrame, interaction_mapping: pd.DataFrame, params: dict
) -> CatBoostClassifier:
    """CatBoost on native categoricals and recency weights, stopped early on the validation slice."""
    model = catboost_classifier(params)
    features = feature_columns(interaction_mapping)
    model.fit(
        model_pool_from(train, features, params["recency_half_life_days"]),
        eval_set=model_pool_from(validation, features),
        early_stopping_rounds=params["catboost"]["early_stopping_rounds"],
        use_best_model=True,
    )
    metric = params["catboost"]["eval_metric"]
    logger.info(
        "CatBoost stopped at %d trees, validation %s %.4f",
        model.tree_count_,
        metric,
        model.get_best_score()["validation"][metric],
    )
    return model


def model_pool_from(
    frame: pd.DataFrame, features: list[str], half_life_days: float | None = None
) -> Pool:
    """A labelled CatBoost pool of ``features``, weighted by recency when a half-life is given."""
    from catboost import Pool

    return Pool(
        frame[features],
        label=frame[LABEL],
        cat_features=CATEGORICAL_FEATURES,
        weight=recency_weights(frame[CREATED_DATE], half_life_days) if half_life_days else None,
    )


def scaled_tree_count(measured: CatBoostClassifier, measured_rows: int, rows: int) -> int:
    """The early-stopped tree count, scaled to a fit on ``rows`` instead of ``measured_rows``."""
    # More rows carry more signal before overfitting: the stopping point grows about linearly.
    return max(1, int(round(measured.tree_count_ * rows / max(measured_rows, 1))))


def fit_fixed_trees(
    leads: pd.DataFrame, trees: int, interaction_mapping: pd.DataFrame, params: dict
) -> CatBoostClassifier:
    """CatBoost with a fixed tree count on ``leads``, weighted by recency from their newest."""
    model = catboost_classifier(params, iterations=trees)
    features = feature_columns(interaction_mapping)
    model.fit(model_pool_from(leads, features, params["recency_half_life_days"]))
    return model


def refit_catboost(
    labelled: pd.DataFrame,
    measured_model: CatBoostClassifier,
    train: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    params: dict,
) -> tuple[CatBoostClassifier, dict, dict]:
    """The registered model: every labelled lead, the measured tree count scaled to their number."""
    trees = scaled_tree_count(measured_model, len(train), len(labelled))
    model = fit_fixed_trees(labelled, trees, interaction_mapping, params)
    newest = labelled[CREATED_DATE].max()
    summary = {
        "leads": len(labelled),
        "trees": trees,
        "measured_trees": int(measured_model.tree_count_),
        "oldest_lead": str(labelled[CREATED_DATE].min()),
        "newest_lead": str(newest),
        "recency_half_life_days": params["recency_half_life_days"],
    }
    logger.info(
        "The registered model saw %d leads up to %s (%d trees, recency half-life %s days)",
        *(summary[k] for k in ("leads", "newest_lead", "trees", "recency_half_life_days")),
    )
    numbers = {
        "leads": len(labelled),
        "trees": trees,
        "newest_lead_unix_days": newest.timestamp() / 86_400,
    }
    return model, summary, as_mlflow_metrics(numbers)


def fit_logistic_baseline(
    train: pd.DataFrame, interaction_mapping: pd.DataFrame, params: dict
) -> object:
    """A one-hot logistic regression on the same features, the bar CatBoost must clear."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = feature_columns(interaction_mapping)
    numeric = [c for c in features if c not in CATEGORICAL_FEATURES]
    baseline = make_pipeline(
        ColumnTransformer(
            [
                ("levels", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL_FEATURES),
                (
                    "numbers",
                    make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                    numeric,
                ),
            ]
        ),
        LogisticRegression(
            C=params["logistic_baseline"]["C"], max_iter=params["logistic_baseline"]["max_iter"]
        ),
    )
    return baseline.fit(_baseline_input(train, features), train[LABEL])


def _baseline_input(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The features with the levels as text: the one-hot encoder takes no mixed types."""
    return frame[features].astype({c: "str" for c in CATEGORICAL_FEATURES})


def tier_cuts_from(probability: np.ndarray, label: np.ndarray, params: dict) -> dict:
    """Score cuts where cold still keeps a share of completers and hot reaches a precision.

    Cut on the 1-99 score a rep sees, not the probability it is rounded from, so one score is
    one tier. Cold is below the score of the completer at the recall's quantile: under
    (1 - recall) of completers score lower. Hot starts at the lowest score from which up the
    leads reach the precision (none: no lead is hot).
    """
    score = probability_to_score(probability)
    completer_scores = np.sort(score[label == 1])
    lost = int(np.floor((1 - params["cold_completer_recall"]) * len(completer_scores)))
    cold_below = int(completer_scores[lost]) if len(completer_scores) else 1
    # Leads and completers at each score 0..99, summed from the top: precision from each score up.
    leads_from = np.bincount(score, minlength=100)[::-1].cumsum()[::-1]
    completers_from = np.bincount(score[label == 1], minlength=100)[::-1].cumsum()[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision_from = completers_from / leads_from
    reaching = np.flatnonzero((leads_from > 0) & (precision_from >= params["hot_precision"]))
    hot_from = max(int(reaching[0]) if len(reaching) else NO_HOT_SCORE, cold_below)
    return {
        "cold_below_score": cold_below,
        "hot_from_score": hot_from,
        "cold_completer_recall": params["cold_completer_recall"],
        "hot_precision": params["hot_precision"],
    }


def fit_probability_calibration(backtest_predictions: pd.DataFrame) -> dict:
    """Platt scaling of the model's log-odds, fitted on out-of-time predictions.

    A model fitted on earlier months over-promises on a later one when completion rates drift
    down: the backtest shows by how much, and the scaling takes it out. It is monotone, so the
    ranking, the ROC AUC and the reasons do not change; only the probabilities and the score do.
    """
    from sklearn.linear_model import LogisticRegression

    label = backtest_predictions[LABEL].to_numpy()
    probability = backtest_predictions["probability"].to_numpy()
    features = log_odds(probability).reshape(-1, 1)
    identity = {"method": "none", "slope": 1.0, "intercept": 0.0, "leads": len(label)}
    if not 0 < label.sum() < len(label):
        logger.warning("Probabilities left uncalibrated: the backtest holds one outcome only.")
        return identity
    platt = LogisticRegression(C=np.inf).fit(features, label)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    if slope <= 0:
        # A backtest whose predictions rank nothing would turn the scale over: keep the model's.
        logger.warning("Probabilities left uncalibrated: the backtest's predictions rank nothing.")
        return identity
    calibration = {"method": "sigmoid", "slope": slope, "intercept": intercept, "leads": len(label)}
    logger.info(
        "Calibration from %d out-of-time predictions: mean probability %.3f -> %.3f "
        "(completion rate %.3f)",
        len(label),
        probability.mean(),
        calibrate_probabilities(probability, calibration).mean(),
        label.mean(),
    )
    return calibration


def fit_tier_cuts(
    backtest_predictions: pd.DataFrame, probability_calibration: dict, params: dict
) -> dict:
    """Tier cuts fitted on out-of-time predictions: months no model chosen on them had seen."""
    cuts = tier_cuts_from(
        calibrate_probabilities(
            backtest_predictions["probability"].to_numpy(), probability_calibration
        ),
        backtest_predictions[LABEL].to_numpy(),
        params,
    )
    logger.info(
        "Tier cuts from %d out-of-time backtest predictions: cold below score %d, hot from %d",
        len(backtest_predictions),
        cuts["cold_below_score"],
        cuts["hot_from_score"],
    )
    return cuts


def predict_holdout(
    model: CatBoostClassifier,
    baseline,
    holdout: pd.DataFrame,
    tier_cuts: dict,
    probability_calibration: dict,
    interaction_mapping: pd.DataFrame,
) -> pd.DataFrame:
    """Model and baseline probabilities, and the score and tier, for every holdout lead."""
    uncalibrated = predict_probabilities(model, holdout)
    probability = calibrate_probabilities(uncalibrated, probability_calibration)
    score = probability_to_score(probability)
    return pd.DataFrame(
        {
            LEAD_ID: holdout[LEAD_ID].to_numpy(),
            CREATED_DATE: holdout[CREATED_DATE].to_numpy(),
            LABEL: holdout[LABEL].to_numpy(),
            "probability": probability,
            "uncalibrated_probability": uncalibrated,
            "baseline_probability": baseline.predict_proba(
                _baseline_input(holdout, feature_columns(interaction_mapping))
            )[:, 1],
            "score": score,
            "tier": assign_tiers(score, tier_cuts),
        }
    )


def classification_metrics(label: np.ndarray, probability: np.ndarray, threshold: float) -> dict:
    """Ranking, probability and thresholded metrics of one model."""
    from sklearn import metrics

    predicted = (probability >= threshold).astype(int)
    return {
        "roc_auc": metrics.roc_auc_score(label, probability),
        "pr_auc": metrics.average_precision_score(label, probability),
        "log_loss": metrics.log_loss(label, probability, labels=[0, 1]),
        "brier": metrics.brier_score_loss(label, probability),
        "accuracy": metrics.accuracy_score(label, predicted),
        "precision": metrics.precision_score(label, predicted, zero_division=0),
        "recall": metrics.recall_score(label, predicted, zero_division=0),
        "f1": metrics.f1_score(label, predicted, zero_division=0),
    }


def tier_outcomes(label: np.ndarray, tiers: np.ndarray) -> dict:
    """The realised promise of the tiers: hot precision and the share of completers cold loses."""
    completers = label.sum()
    hot = tiers == HOT
    return {
        "hot_precision": float(label[hot].mean()) if hot.any() else 0.0,
        "cold_completers_lost": float(label[tiers == COLD].sum() / completers)
        if completers
        else 0.0,
    }


def evaluate_holdout(
    holdout_predictions: pd.DataFrame, tier_cuts: dict, params: dict
) -> tuple[dict, dict]:
    """Holdout metrics of the model and the baseline, and what each tier holds."""
    label = holdout_predictions[LABEL].to_numpy()
    threshold = params["operating_threshold"]
    model = classification_metrics(label, holdout_predictions["probability"].to_numpy(), threshold)
    baseline = classification_metrics(
        label, holdout_predictions["baseline_probability"].to_numpy(), threshold
    )
    tiers = holdout_predictions["tier"]
    metrics = {
        **model,
        **{f"baseline_{name}": value for name, value in baseline.items()},
        **{f"share_{tier}": float((tiers == tier).mean()) for tier in TIERS},
        **tier_outcomes(label, tiers.to_numpy()),
        # The promises the cuts were fitted to keep, next to what the holdout realised.
        "hot_precision_target": tier_cuts["hot_precision"],
        "cold_completers_lost_target": 1 - tier_cuts["cold_completer_recall"],
        "mean_probability": float(holdout_predictions["probability"].mean()),
        "mean_probability_uncalibrated": float(
            holdout_predictions["uncalibrated_probability"].mean()
        ),
        "leads": float(len(label)),
        "completion_rate": float(label.mean()),
    }
    metrics = {name: float(value) for name, value in metrics.items()}
    logger.info(
        "Holdout: ROC AUC %.4f (baseline %.4f), PR AUC %.4f, log loss %.4f, Brier %.4f, "
        "accuracy %.4f, precision %.4f, recall %.4f, F1 %.4f",
        *(metrics[k] for k in ("roc_auc", "baseline_roc_auc", "pr_auc", "log_loss", "brier")),
        *(metrics[k] for k in ("accuracy", "precision", "recall", "f1")),
    )
    logger.info(
        "Tiers on holdout: hot %.1f%%, warm %.1f%%, cold %.1f%% (cold loses %.1f%% of completers)",
        100 * metrics["share_hot"],
        100 * metrics["share_warm"],
        100 * metrics["share_cold"],
        100 * metrics["cold_completers_lost"],
    )
    logger.info(
        "Tier promises out of time: hot precision %.3f (target %.2f), cold loses %.1f%% of "
        "completers (target %.0f%%)",
        metrics["hot_precision"],
        metrics["hot_precision_target"],
        100 * metrics["cold_completers_lost"],
        100 * metrics["cold_completers_lost_target"],
    )
    return metrics, as_mlflow_metrics(metrics)
