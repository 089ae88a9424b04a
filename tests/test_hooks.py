"""The project's hooks: which alias a new model version gets."""

from mlflow.tracking import MlflowClient

from lead_scoring.hooks import promote_model_version


def test_promotion_follows_the_comparison_on_the_same_holdout(tmp_path):
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'registry.db'}")
    experiment = client.create_experiment(
        "promotion", artifact_location=str(tmp_path / "artifacts")
    )
    client.create_registered_model("lead_scoring")

    def register(challenge: dict | None = None, holdout_auc: float = 0.8) -> str:
        run = client.create_run(experiment)
        # A recorded holdout AUC from another holdout must not decide anything.
        client.log_metric(run.info.run_id, "holdout.roc_auc", holdout_auc)
        for name, value in (challenge or {}).items():
            client.log_metric(run.info.run_id, f"challenge.{name}", value)
        client.create_model_version("lead_scoring", source=str(tmp_path), run_id=run.info.run_id)
        return run.info.run_id

    def against(champion: int, challenger_auc: float, champion_auc: float, wins: bool) -> dict:
        return {
            "champion_version": champion,
            "leads": 4000,
            "challenger_roc_auc": challenger_auc,
            "champion_roc_auc": champion_auc,
            "challenger_log_loss": 0.5,
            "champion_log_loss": 0.51,
            "margin_roc_auc": 0.002,
            "challenger_wins": float(wins),
        }

    assert promote_model_version(client, register())[1:] == (
        "champion",
        "there was no champion yet",
    )
    # A higher recorded AUC, but it lost to the champion on its own holdout.
    version, alias, why = promote_model_version(
        client, register(against(1, 0.801, 0.800, wins=False), holdout_auc=0.9)
    )
    assert (str(version), alias) == ("2", "challenger")
    assert (
        "on the same 4000 holdout leads its ROC AUC 0.8010 does not beat version 1's 0.8000" in why
    )
    # A lower recorded AUC, but it beat the champion on its own holdout.
    version, alias, why = promote_model_version(
        client, register(against(1, 0.79, 0.78, wins=True), holdout_auc=0.7)
    )
    assert (str(version), alias) == ("3", "champion")
    # A comparison with a version that is no longer the champion decides nothing.
    version, alias, why = promote_model_version(client, register(against(1, 0.9, 0.7, wins=True)))
    assert (str(version), alias) == ("4", "challenger")
    assert "did not score champion version 3" in why
    assert str(client.get_model_version_by_alias("lead_scoring", "champion").version) == "3"
