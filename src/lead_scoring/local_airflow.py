"""`make airflow`: Airflow 3 on this machine, on loopback only, until Ctrl-C or a `kill`.

It runs the four services `airflow standalone` runs (API server and UI, scheduler, DAG processor,
triggerer), configured by the AIRFLOW__ variables of :func:`settings`, with two differences:
the log servers stay off (standalone starts them on every network interface, and no setting
binds them to loopback; on one machine the UI reads the task logs from disk), and stopping
this process, or the `make` above it, stops every process the services started (standalone
leaves them running when it is killed). `python src/lead_scoring/local_airflow.py ARGS...` runs
`airflow ARGS...` with the same settings; run as a file, it imports neither Kedro nor MLflow.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs in the lock (types-psutil)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = PROJECT_ROOT / "airflow_dags"
HOST = "127.0.0.1"
PORT = 8080
ADMIN = "admin"
_AIRFLOW = Path(sys.executable).with_name("airflow")
# In this order: the API server first, answering before the scheduler starts a task.
SERVICES = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}


def settings(home: Path, dags_folder: Path = DAGS_FOLDER) -> dict[str, str]:
    """Airflow's settings where they differ from its defaults, and nothing phoning home.

    On first use Airflow writes the rest, with its Fernet key, into $AIRFLOW_HOME/airflow.cfg.
    """
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # One task at a time per core: the default, 32, starts 32 worker processes on a laptop.
        "AIRFLOW__CORE__PARALLELISM": str(os.cpu_count() or 1),
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(PORT),
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{PORT}",
        # Airflow signs its tokens with HS512 and writes a 16-byte key, below the 64 bytes under
        # which PyJWT warns in every service. Fresh at each start: a restart asks for a login.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "1",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        # Airflow's execution API imports Starlette's test client, which warns about its HTTP
        # library in every process; nothing of it runs here.
        "PYTHONWARNINGS": "ignore:Using `httpx` with `starlette.testclient` is deprecated",
    }


def admin_password(home: Path) -> str:
    """The admin's password, generated once into the file Airflow's simple auth manager reads."""
    path = home / "simple_auth_manager_passwords.json.generated"
    passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
    if ADMIN not in passwords:
        home.mkdir(parents=True, exist_ok=True)
        passwords[ADMIN] = secrets.token_urlsafe(12)
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return passwords[ADMIN]


def stop_descendants(timeout: float = 30.0) -> None:
    """Terminate every process this one started, theirs too; kill those up ``timeout`` s after."""
    # Listed before any is signalled: a service that exits first would orphan its workers, and
    # task processes run in process groups of their own, out of reach of a group signal.
    processes = psutil.Process().children(recursive=True)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def _relay(name: str, stream) -> None:
    for line in stream:
        print(f"{name:<13} | {line.decode(errors='replace').rstrip()}", flush=True)


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def start(home: Path) -> int:
    """Run Airflow's services until Ctrl-C, a `kill` of this process, or the end of its parent."""
    env = {**os.environ, **settings(home)}
    banner = (
        f"Airflow UI: http://{HOST}:{PORT}  user: {ADMIN}  password: {admin_password(home)}\n"
        f"AIRFLOW_HOME={home}  (Ctrl-C, or `kill {os.getpid()}`, stops Airflow)"
    )
    print(banner, flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    services: dict[str, subprocess.Popen] = {}
    try:
        for name, args in SERVICES.items():
            service = subprocess.Popen(
                [str(_AIRFLOW), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            services[name] = service
            threading.Thread(target=_relay, args=(name, service.stdout), daemon=True).start()
            # Tasks report to the API server: a task started before it answers fails a try.
            while name == "api-server" and service.poll() is None and not _answers(HOST, PORT):
                if stop.wait(1.0) or os.getppid() != parent:
                    return 0
        # Again below the services' start-up lines, where a person looks.
        print(banner, flush=True)
        # `make` does not pass a `kill` on to its recipe: a new parent means `make` is gone.
        while not stop.wait(1.0) and os.getppid() == parent:
            ended = [name for name, service in services.items() if service.poll() is not None]
            if ended:
                # A half-running Airflow schedules nothing: one service ending ends the whole.
                print(f"Airflow's {ended[0]} ended by itself: stopping Airflow.", flush=True)
                return 1
    finally:
        stop_descendants()
    return 0


def main() -> int:
    args = sys.argv[1:]
    home = Path(os.environ.get("AIRFLOW_HOME") or PROJECT_ROOT / ".airflow").resolve()
    if not args:
        return start(home)
    os.execve(_AIRFLOW, [str(_AIRFLOW), *args], {**os.environ, **settings(home)})


if __name__ == "__main__":
    sys.exit(main())
