"""The code the registered model carries: the modules its scoring imports, and no others.

MLflow copies each ``code_paths`` entry into the model's ``code/`` folder. Shipping the whole
package would carry the Airflow launcher, the data generator and the run hooks into every model,
so the modules scoring needs are found by reading their imports (every ``import`` statement,
inside functions too, since those run at score time) from the inference pipeline's nodes, its
runner and the model's datasets, and copied into a temporary package folder that keeps their layout.

MLflow's own ``infer_code_paths`` is not used: it resolves modules against the working directory,
and a Kedro project runs from its root, above ``src/``.
"""

from __future__ import annotations

import ast
import atexit
import functools
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from kedro.pipeline import Pipeline

PACKAGE = __name__.partition(".")[0]
_PACKAGE_DIR = Path(__file__).resolve().parent


def _module_file(module: str) -> Path | None:
    """The source file of ``module`` in this package; None for an imported name, not a module."""
    folder = _PACKAGE_DIR.joinpath(*module.split(".")[1:])
    for candidate in (folder / "__init__.py", folder.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _in_package(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _imported_names(module: str, source: Path) -> set[str]:
    """The names of this package that ``module`` imports, modules and attributes alike."""
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for statement in ast.walk(ast.parse(source.read_bytes(), filename=str(source))):
        if isinstance(statement, ast.Import):
            names.update(alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                base = importlib.util.resolve_name("." * statement.level + base, package)
            names.add(base)
            # `from package import name` imports the submodule `name` when there is one.
            names.update(f"{base}.{alias.name}" for alias in statement.names)
    return {name for name in names if _in_package(name)}


def imported_modules(roots: Iterable[str]) -> dict[str, Path]:
    """``roots`` and every module of this package they import, transitively, with their files."""
    found: dict[str, Path] = {}
    pending = [name for name in roots if _in_package(name)]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        # Importing a module runs the __init__ of each package above it first.
        for depth in range(1, len(parts) + 1):
            module = ".".join(parts[:depth])
            source = None if module in found else _module_file(module)
            if source is not None:
                found[module] = source
                pending.extend(_imported_names(module, source))
    return dict(sorted(found.items()))


def _defining_module(function) -> str:
    while isinstance(function, functools.partial):
        function = function.func
    return function.__module__


def scoring_roots(inference: Pipeline, carried: Iterable[object] = ()) -> list[str]:
    """The modules that unpickling the model imports first: its nodes', and ``carried``'s."""
    nodes = {_defining_module(node.func) for node in inference.nodes}
    return sorted(nodes | {t if isinstance(t, str) else t.__module__ for t in carried})


def staged_package(roots: Iterable[str]) -> Path:
    """A temporary copy of this package holding ``roots`` and what they import, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="model_code_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for source in imported_modules(roots).values():
        target = folder / PACKAGE / source.relative_to(_PACKAGE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return folder / PACKAGE


class ScoringCode(os.PathLike):
    """This package's folder as the registered model carries it: only what scoring imports.

    The copy is made when MLflow first reads the path, at log time, as the whole package's was:
    every Kedro command builds the train pipeline, and reading and copying the modules there
    would cost each command 35 ms of CPU (30 files; measured on a shared 2-core machine).
    """

    def __init__(self, inference: Pipeline, carried: Iterable[object] = ()) -> None:
        # ``carried``: the project's other objects or classes (or their modules' names) the model
        # pickles with its nodes (its runner, its catalog's datasets); a test loads the model
        # where nothing else is.
        self.roots = scoring_roots(inference, carried)
        self._folder: Path | None = None

    def __fspath__(self) -> str:
        # MLflow reads the path several times while it copies it.
        if self._folder is None:
            self._folder = staged_package(self.roots)
        return str(self._folder)

    def __repr__(self) -> str:
        return f"ScoringCode(roots={list(self.roots)})"
