"""Security basics: nothing secret or machine-specific is committed, the served model binds to
loopback in the docs, and loading a model never runs a pickle from a path the user did not set.
"""

from __future__ import annotations

import pickle
import re
import subprocess
from pathlib import Path

import mlflow
import pytest
import yaml
from kedro.io import DatasetError

from lead_scoring.datasets import CatBoostModelDataset
from tests.conftest import PROJECT_ROOT
from tests.reliability.conftest import isolated_copy, model_directory, score

SCANNED = ["conf", "src", "docs", "README.md"]
TEXT_SUFFIXES = {".py", ".yml", ".yaml", ".md", ".txt", ".toml", ".cfg", ".ini", ".json", ""}

ABSOLUTE_PATH = re.compile(
    r"(?<![\w.$}-])(?:/(?:home|Users|root|tmp|var/folders|private/var|mnt|work)/[^\s'\"`),]*"
    r"|[A-Za-z]:\\(?:Users|Documents and Settings)\\[^\s'\"`]*)"
)
# Documented example commands, not paths of anyone's machine.
EXAMPLE_PATHS = {"/tmp/leads.csv"}
TOKENS = {
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "API secret key": re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
}
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s:@'\"]+):([^/\s@'\"]+)@")
ASSIGNED_SECRET = re.compile(
    r"(?i)\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)\b\s*[:=]\s*"
    r"[\"']?([^\s\"'#,]+)"
)
PLACEHOLDERS = re.compile(
    r"^(?:\.\.\.|<.*>|\$\{.*\}?|\{.*\}?|x+|pass(?:word)?|user(?:name)?|null|none)$"
)


def committed_text_files() -> list[Path]:
    """The files under SCANNED that are or would be committed (git's view, else a walk)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *SCANNED],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        paths = [PROJECT_ROOT / name for name in listed]
    except (OSError, subprocess.CalledProcessError):
        paths = [
            path
            for name in SCANNED
            for path in (
                [PROJECT_ROOT / name] if name.endswith(".md") else (PROJECT_ROOT / name).rglob("*")
            )
            if "__pycache__" not in path.parts and "local" not in path.parts
        ]
    return [p for p in paths if p.is_file() and p.suffix in TEXT_SUFFIXES]


def findings(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        where = f"{path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}:{number}"
        for match in ABSOLUTE_PATH.finditer(line):
            if match.group(0) not in EXAMPLE_PATHS:
                found.append(f"{where}: absolute path {match.group(0)}")
        for kind, pattern in TOKENS.items():
            if pattern.search(line):
                found.append(f"{where}: {kind}")
        for _, password in URL_CREDENTIALS.findall(line):
            if not PLACEHOLDERS.match(password):
                found.append(f"{where}: credentials in a URL")
        if path.suffix != ".py":
            for value in ASSIGNED_SECRET.findall(line):
                if not PLACEHOLDERS.match(value) and len(value) >= 8:
                    found.append(f"{where}: a secret's value")
    return found


def test_the_scan_sees_the_project_and_would_catch_a_leak(tmp_path):
    files = committed_text_files()
    assert PROJECT_ROOT / "conf" / "base" / "catalog.yml" in files
    assert any(path.suffix == ".py" for path in files)
    leak = tmp_path / "leak.yml"
    leak.write_text(
        "server:\n  mlflow_tracking_uri: https://ci:hunter2secret@mlflow.example.com\n"
        "  aws_secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n"
        "data: /home/alice/lead_scoring/data/01_raw/leads.csv\n"
        "token: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n"
    )
    kinds = {finding.split(": ", 1)[1].split(" /")[0] for finding in findings(leak)}
    assert kinds == {"credentials in a URL", "a secret's value", "absolute path", "GitHub token"}


def test_no_credentials_tokens_or_absolute_paths_are_committed():
    found = [finding for path in committed_text_files() for finding in findings(path)]
    assert found == []


def test_local_configuration_and_credentials_are_never_committed():
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "--", "conf/local"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", "conf/local/credentials.yml"], cwd=PROJECT_ROOT
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    assert tracked == ["conf/local/.gitkeep"]
    assert ignored == 0


# --- the served model binds to loopback --------------------------------------------------------


def serve_commands() -> list[tuple[str, str]]:
    """Every documented `mlflow models serve` command, continuation lines joined."""
    commands = []
    for doc in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]:
        text = doc.read_text().replace("\\\n", " ")
        commands += [(doc.name, line) for line in text.splitlines() if "models serve" in line]
    return commands


def test_the_docs_serve_the_model_on_loopback():
    commands = serve_commands()
    assert commands, "no documented `mlflow models serve` command"
    for doc, command in commands:
        hosts = re.findall(r"(?:--host|-h)[ =](\S+)", command)
        assert set(hosts) <= {"127.0.0.1", "localhost", "::1"}, f"{doc}: {command}"
    # Without --host, `mlflow models serve` binds to loopback too.
    from mlflow.models.cli import serve

    (host,) = [param.default for param in serve.params if param.name == "host"]
    assert host == "127.0.0.1"


def test_the_tracking_ui_binds_to_loopback():
    mlflow_conf = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "mlflow.yml").read_text())
    assert mlflow_conf["ui"]["host"] in {"127.0.0.1", "localhost"}


# --- loading a model never runs a pickle from a path the user did not set -------------------


class _Payload:
    """Unpickling this creates ``marker``: proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_in_place_of_the_catboost_model_is_never_run(tmp_path):
    marker = tmp_path / "pickle_ran"
    model_file = tmp_path / "lead_scoring_model.cbm"
    model_file.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(DatasetError, match="missing or corrupted"):
        CatBoostModelDataset(filepath=str(model_file)).load()
    assert not marker.exists()


def test_the_registered_model_loads_only_the_artifacts_inside_its_own_directory(
    trained_project, export_cells, scoring_model, tmp_path
):
    """The model's MLmodel file records where each artifact came from at training time; a
    pickle planted there is never run: only the copies inside the model's directory are read."""
    project = isolated_copy(trained_project, tmp_path / "project")
    directory = model_directory(project)
    marker = tmp_path / "pickle_ran"
    planted = tmp_path / "planted"
    planted.mkdir()
    mlmodel_path = directory / "MLmodel"
    mlmodel = yaml.safe_load(mlmodel_path.read_text())
    artifacts = mlmodel["flavors"]["python_function"]["artifacts"]
    for name, artifact in artifacts.items():
        decoy = planted / Path(artifact["path"]).name
        decoy.write_bytes(pickle.dumps(_Payload(marker)))
        artifact["uri"] = decoy.as_uri()
        assert (directory / artifact["path"]).is_file(), name
    mlmodel_path.write_text(yaml.safe_dump(mlmodel))
    model = mlflow.pyfunc.load_model(str(directory))
    leads = export_cells.head(5)
    assert score(model, leads)["score"].tolist() == score(scoring_model, leads)["score"].tolist()
    assert not marker.exists()


def test_no_path_a_user_passes_at_run_time_reaches_an_unpickler():
    """Runtime parameters may point at exports (read as text), never at pickles or models."""
    catalog = {}
    for path in sorted((PROJECT_ROOT / "conf" / "base").glob("catalog*.yml")):
        catalog.update(yaml.safe_load(path.read_text()) or {})
    for name, entry in catalog.items():
        if not isinstance(entry, dict) or name.startswith("_"):
            continue
        dataset = entry.get("dataset", entry)
        kind = str(dataset.get("type", "")) if isinstance(dataset, dict) else str(dataset)
        filepath = str(dataset.get("filepath", "")) if isinstance(dataset, dict) else ""
        if "runtime_params" in filepath or "${env" in filepath:
            assert kind.endswith("RawLeadsDataset"), name
        if "pickle" in kind.lower():
            assert filepath.startswith("data/"), f"{name} unpickles {filepath}"
