"""`make airflow`: a local Airflow 3 on one machine, on loopback only, running the project's DAGs.

`python -m lead_scoring.local_airflow init` writes $AIRFLOW_HOME/airflow.cfg (default .airflow/ in
the project), creates the SQLite metadata database and loads the DAGs from airflow_dags/, so that
`AIRFLOW_HOME=.airflow airflow dags list` lists them. `... start` then runs what
`airflow standalone` runs (API server and UI, scheduler with a LocalExecutor, DAG processor,
triggerer), except the log servers: standalone starts them on every interface, and on one machine
the UI reads the task logs from disk.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = PROJECT_ROOT / "airflow_dags"
HOST = "127.0.0.1"
PORT = 8080
ADMIN = "admin"
_AIRFLOW = Path(sys.executable).with_name("airflow")

# (name, arguments) of each service; the log servers are skipped where Airflow allows it.
SERVICES = (
    ("api-server", ("api-server", "--host", HOST, "--port", str(PORT))),
    ("scheduler", ("scheduler", "--skip-serve-logs")),
    ("dag-processor", ("dag-processor",)),
    ("triggerer", ("triggerer", "--skip-serve-logs")),
)


_STARLETTE_TESTCLIENT_WARNING = "ignore:Using `httpx` with `starlette.testclient` is deprecated"


def airflow_home() -> Path:
    """$AIRFLOW_HOME made absolute, else .airflow/ in the project."""
    return Path(os.environ.get("AIRFLOW_HOME") or PROJECT_ROOT / ".airflow").resolve()


# Airflow signs its tokens with HS512; PyJWT warns on every service start below 64 bytes of key.
JWT_SECRET_BYTES = 64


def config_text(home: Path, dags_folder: Path) -> str:
    """airflow.cfg for one machine: only what differs from Airflow's defaults, and the secrets."""
    fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return f"""\
# Written by `make airflow-init` (lead_scoring.local_airflow); Airflow's defaults fill in the rest.
[core]
dags_folder = {dags_folder}
load_examples = False
executor = LocalExecutor
auth_manager = airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
simple_auth_manager_users = {ADMIN}:admin
fernet_key = {fernet_key}

[database]
sql_alchemy_conn = sqlite:///{home / "airflow.db"}

[api]
host = {HOST}
port = {PORT}
base_url = http://{HOST}:{PORT}

[api_auth]
jwt_secret = {secrets.token_urlsafe(JWT_SECRET_BYTES)}

[sentry]
sentry_on = False

# Airflow 3.3.2 sends no usage data (it has no such code); older and newer releases that do
# read this switch.
[usage_data_collection]
enabled = False
"""


def service_env(home: Path) -> dict[str, str]:
    """The environment of every Airflow process: this home, and nothing phoning home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(
        AIRFLOW_HOME=str(home),
        SCARF_ANALYTICS="false",
        DO_NOT_TRACK="1",
        KEDRO_DISABLE_TELEMETRY="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        PATH=os.pathsep.join([str(_AIRFLOW.parent), env.get("PATH", "")]),
        # Airflow's execution API imports Starlette's test client, which warns about its HTTP
        # library in every process; nothing of it runs here.
        PYTHONWARNINGS=_STARLETTE_TESTCLIENT_WARNING,
    )
    return env


def _airflow(home: Path, *args: str) -> None:
    subprocess.run([str(_AIRFLOW), *args], env=service_env(home), check=True)


def admin_password(home: Path) -> str:
    """The admin's password, generated once into the file Airflow's simple auth manager reads."""
    path = home / "simple_auth_manager_passwords.json.generated"
    passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
    if ADMIN not in passwords:
        passwords[ADMIN] = secrets.token_urlsafe(12)
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return passwords[ADMIN]


def init(home: Path, dags_folder: Path = DAGS_FOLDER) -> None:
    """Write the configuration once, migrate the metadata database and load the DAGs."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "airflow.cfg"
    if not config.exists():
        config.write_text(config_text(home, dags_folder.resolve()))
        config.chmod(0o600)
    admin_password(home)
    _airflow(home, "db", "migrate")
    # `airflow dags list` reads the DAGs from the database, where the DAG processor puts them.
    _airflow(home, "dags", "reserialize")


def _relay(name: str, stream) -> None:
    for line in stream:
        print(f"{name:<13} | {line.rstrip()}", flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def start(home: Path) -> int:
    """Run Airflow's services until Ctrl-C, their output prefixed with their names."""
    # A `kill` stops the services too, not only this process.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Airflow UI: http://{HOST}:{PORT}  user: {ADMIN}  password: {admin_password(home)}")
    print(f"AIRFLOW_HOME={home}  DAGs: {DAGS_FOLDER}  (Ctrl-C stops Airflow)", flush=True)
    processes = []
    relays = []
    for name, args in SERVICES:
        process = subprocess.Popen(
            [str(_AIRFLOW), *args],
            env=service_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        relay = threading.Thread(target=_relay, args=(name, process.stdout), daemon=True)
        relay.start()
        relays.append(relay)
    try:
        # Any service ending ends the whole: a half-running Airflow schedules nothing.
        while all(process.poll() is None for process in processes):
            threading.Event().wait(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return max((process.returncode or 0) for process in processes)


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:]) or ["start"]
    home = airflow_home()
    if command == ["init"]:
        init(home)
        print(f"Airflow is set up in {home}; `make airflow` starts it.")
        return 0
    if command == ["start"]:
        return start(home)
    print("usage: python -m lead_scoring.local_airflow [init|start]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
