"""The one publish protocol: a staged hidden sibling, locked while its writer lives."""

from __future__ import annotations

import fcntl
import os
import shutil

import pytest

from lead_scoring.datasets import (
    AtomicCSVDataset,
    CallListDataset,
    Publishable,
    ScoredChunksDataset,
    StreamedCSVDataset,
    publish,
)
from lead_scoring.datasets.publish import Staged, remove_stale


@pytest.mark.parametrize("folder", [False, True])
def test_a_killed_writers_sibling_goes_and_a_live_ones_stays(tmp_path, folder):
    target = tmp_path / "scored_leads.csv"
    killed = Staged(target, folder=folder)
    os.close(killed._fd)  # what the kernel does when the writer is killed
    live = Staged(target, folder=folder)
    assert not killed.path.exists()
    assert remove_stale(target) == []
    assert live.path.exists() and live.path.name.endswith(".partial")
    assert live.path.is_dir() == folder and live.path.name.startswith(".scored_leads.csv.")
    live.discard()
    assert list(tmp_path.iterdir()) == []


def test_publishing_replaces_the_target_in_one_step_and_leaves_nothing_staged(tmp_path):
    target = tmp_path / "call_list.csv"
    target.write_text("old\n")
    staged = Staged(target, folder=True)
    (staged.path / "joined").write_text("new\n")
    staged.publish(staged.path / "joined")
    assert target.read_text() == "new\n"
    assert list(tmp_path.iterdir()) == [target]


def test_a_clean_up_at_the_instant_a_sibling_is_made_leaves_it_to_its_writer(tmp_path, monkeypatch):
    """Another writer's clean-up may look between the sibling's creation and its lock."""
    target = tmp_path / "call_list.csv"
    real_flock, removed = fcntl.flock, []

    def flock_after_another_clean_up(fd, operation):
        if not removed:
            removed.append(None)
            removed.append(remove_stale(target))
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_another_clean_up)
    staged = Staged(target, folder=True)
    monkeypatch.undo()
    # The clean-up took the new folder before it was locked; the writer made another and holds it.
    (taken,) = removed[1]
    assert not taken.exists() and staged.path.is_dir() and staged.path != taken
    assert remove_stale(target) == []
    staged.discard()


def test_two_clean_ups_of_one_killed_sibling_both_finish(tmp_path, monkeypatch):
    target = tmp_path / "scored_chunks"
    killed = Staged(target, folder=True)
    os.close(killed._fd)
    real_lock = publish._lock_free

    def lock_after_the_other_clean_up_removed_it(path):
        shutil.rmtree(killed.path, ignore_errors=True)
        return real_lock(path)

    monkeypatch.setattr(publish, "_lock_free", lock_after_the_other_clean_up_removed_it)
    assert remove_stale(target) == []
    assert list(tmp_path.iterdir()) == []


def test_the_hook_finds_every_streamed_output_by_the_protocol_alone(tmp_path):
    outputs = [
        StreamedCSVDataset(filepath=str(tmp_path / "a.csv")),
        CallListDataset(filepath=str(tmp_path / "b.csv")),
        ScoredChunksDataset(filepath=str(tmp_path / "c")),
    ]
    assert all(isinstance(dataset, Publishable) for dataset in outputs)
    assert not isinstance(AtomicCSVDataset(filepath=str(tmp_path / "d.csv")), Publishable)
