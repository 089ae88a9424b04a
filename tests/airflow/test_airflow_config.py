"""The secrets `make airflow-init` writes into airflow.cfg."""

from __future__ import annotations

import configparser

from lead_scoring.local_airflow import config_text


def jwt_secret(home) -> str:
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(config_text(home, home / "dags"))
    return config["api_auth"]["jwt_secret"]


def test_the_token_signing_key_is_fresh_and_long_enough_for_hs512(tmp_path):
    secret = jwt_secret(tmp_path)
    # PyJWT's InsecureKeyLengthWarning, printed by every Airflow service, starts below 64 bytes.
    assert len(secret.encode()) >= 64
    assert jwt_secret(tmp_path) != secret
