"""`make airflow-init` and `make airflow`: a local Airflow's settings, database, DAGs and stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest

from lead_scoring.local_airflow import HOST, admin_password, settings
from tests.airflow.conftest import DAG_IDS, DAGS_FOLDER
from tests.conftest import PROJECT_ROOT, kedro_env


def test_the_settings_serve_on_loopback_from_the_project_s_dags_one_task_per_core(tmp_path):
    values = settings(tmp_path)
    assert values["AIRFLOW__API__HOST"] == HOST == "127.0.0.1"
    assert values["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS_FOLDER)
    assert values["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert values["AIRFLOW__CORE__PARALLELISM"] == str(os.cpu_count())
    # PyJWT's InsecureKeyLengthWarning, printed by every Airflow service, starts below 64 bytes.
    secret = values["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert len(secret.encode()) >= 64
    assert settings(tmp_path)["AIRFLOW__API_AUTH__JWT_SECRET"] != secret


def test_the_admin_password_is_made_once_and_readable_by_its_owner_only(tmp_path):
    password = admin_password(tmp_path)
    assert admin_password(tmp_path) == password
    password_file = tmp_path / "simple_auth_manager_passwords.json.generated"
    assert json.loads(password_file.read_text()) == {"admin": password}
    assert password_file.stat().st_mode & 0o077 == 0


# A process that starts a child, which starts a grandchild in a session of its own (as Airflow
# starts a task's process in a process group of its own), then stops its descendants.
_TREE = """
import subprocess, sys, time
from lead_scoring.local_airflow import stop_descendants
sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
spawn = "import subprocess, sys, time; subprocess.Popen(%r, start_new_session=True); time.sleep(120)"
child = subprocess.Popen([sys.executable, "-c", spawn % (sleep,)])
time.sleep(float(sys.argv[1]))
print(child.pid, *(p.pid for p in __import__("psutil").Process(child.pid).children()), flush=True)
stop_descendants(timeout=5)
"""


def test_stopping_stops_every_process_started_below_even_in_another_session():
    result = subprocess.run(
        [sys.executable, "-c", _TREE, "3"],
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pids = [int(pid) for pid in result.stdout.splitlines()[-1].split()]
    assert len(pids) == 2, result.stdout + result.stderr
    time.sleep(0.5)
    assert not [
        pid
        for pid in pids
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]


def _local_airflow(home, *args: str) -> subprocess.CompletedProcess:
    """`python src/lead_scoring/local_airflow.py ARGS` as `make airflow-init` runs it."""
    env = {k: v for k, v in kedro_env().items() if not k.startswith("AIRFLOW__")}
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "src" / "lead_scoring" / "local_airflow.py"), *args],
        env={**env, "AIRFLOW_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


@pytest.mark.slow
def test_after_make_airflow_init_the_three_dags_are_listed_paused(tmp_path):
    # What `make airflow-init` runs, then `airflow dags list` with the same settings.
    _local_airflow(tmp_path, "db", "migrate")
    _local_airflow(tmp_path, "dags", "reserialize")
    listed = json.loads(_local_airflow(tmp_path, "dags", "list", "--output", "json").stdout)
    assert sorted(dag["dag_id"] for dag in listed) == sorted(DAG_IDS)
    assert all(dag["is_paused"] in (True, "True") for dag in listed)
    # Airflow wrote the rest of its configuration, its Fernet key with it, for its owner only.
    assert (tmp_path / "airflow.cfg").stat().st_mode & 0o077 == 0
