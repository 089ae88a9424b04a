"""Project CLI: Kedro's own `run`, with the project's data errors printed as one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.io import DatasetError

from lead_scoring.errors import LeadScoringError
from lead_scoring.quiet import silence_known_noise
from lead_scoring.store.errors import StoreBusyError


def error_chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error, then the errors it was raised from or while handling, outermost first."""
    # Kedro wraps a dataset's errors in DatasetError `from` the original, and the catalog wraps
    # that again with the dataset's name: the whole chain is read.
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _explained_cause(error: BaseException | None) -> BaseException | None:
    """The first error in the chain whose message is written for a user."""
    explained = (e for e in error_chain(error) if isinstance(e, LeadScoringError | DatasetError))
    return next(explained, None)


def _run(*args, **kwargs):
    silence_known_noise()
    try:
        return kedro_run.callback(*args, **kwargs)
    except StoreBusyError as error:
        # Another run holds the store: nothing is wrong, and the next run catches up.
        click.echo(str(error))
        return None
    except Exception as error:
        cause = _explained_cause(error)
        if cause is None:
            raise
        raise click.ClickException(str(cause).strip()) from None


@click.group(name="lead_scoring")
def cli() -> None:
    """Command line tools for lead_scoring."""


# `run`: the command `python -m lead_scoring` (Kedro's find_run_command) runs too.
run = click.Command(name="run", params=kedro_run.params, callback=_run, help=kedro_run.help)
cli.add_command(run)


@cli.group(name="store")
def store() -> None:
    """The lead store: its schema (docs/operations.md)."""


@store.command(name="upgrade")
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
def upgrade(env: str | None) -> None:
    """Upgrade the lead store's schema to this release's (the store at LEAD_STORE_URL)."""
    from pathlib import Path

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from lead_scoring.store import LeadStore, schema

    silence_known_noise()
    bootstrap_project(Path.cwd())
    try:
        with KedroSession.create(env=env) as session:
            dataset = cast(Any, session).load_context().catalog.get("lead_store")
        # Upgrading takes the store's lock: never beside a run that writes it.
        lead_store = LeadStore(dataset.url, upgrade=True, lock_timeout=dataset.lock_timeout)
    except (LeadScoringError, DatasetError, StoreBusyError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"The lead store at {lead_store.describe} is at schema revision {schema.head_revision()}."
    )
