"""`make airflow-init`: the configuration, the metadata database and the DAGs of a local Airflow."""

from __future__ import annotations

import configparser
import json

import pytest

from lead_scoring.local_airflow import HOST, admin_password, init
from tests.airflow.conftest import DAG_IDS, DAGS_FOLDER, run_airflow

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("local_airflow")
    init(home, DAGS_FOLDER)
    return home


def test_airflow_dags_list_shows_the_three_dags_paused_until_switched_on(home):
    listed = json.loads(run_airflow(home, "dags", "list", "--output", "json").stdout)
    assert sorted(dag["dag_id"] for dag in listed) == sorted(DAG_IDS)
    assert all(dag["is_paused"] in (True, "True") for dag in listed)


def test_the_configuration_serves_on_loopback_from_the_project_s_dags(home):
    config = configparser.ConfigParser(interpolation=None)
    config.read(home / "airflow.cfg")
    assert config["core"]["dags_folder"] == str(DAGS_FOLDER)
    assert config["core"]["load_examples"] == "False"
    assert config["api"]["host"] == HOST == "127.0.0.1"
    assert config["database"]["sql_alchemy_conn"] == f"sqlite:///{home / 'airflow.db'}"
    # The configuration holds the keys, the password file the admin's password: the owner's only.
    assert (home / "airflow.cfg").stat().st_mode & 0o077 == 0
    password_file = home / "simple_auth_manager_passwords.json.generated"
    assert json.loads(password_file.read_text()) == {"admin": admin_password(home)}
    assert password_file.stat().st_mode & 0o077 == 0
