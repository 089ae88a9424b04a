"""Working folders: a run's own hidden folder, and the clean-up of the ones killed runs left."""

from __future__ import annotations

import fcntl
import shutil

from lead_scoring.datasets import working_folder
from lead_scoring.datasets.working_folder import (
    close_working_folder,
    open_working_folder,
    remove_stale_working_folders,
)
from lead_scoring.locks import try_exclusive_lock


def test_a_killed_runs_folder_goes_and_a_live_ones_stays(tmp_path):
    target = tmp_path / "scored_leads"
    killed, killed_lock = open_working_folder(target)
    killed_lock.close()  # what the kernel does when the run is killed
    live, live_lock = open_working_folder(target)
    assert not killed.exists()
    assert remove_stale_working_folders(target) == []
    assert live.exists()
    close_working_folder(live, live_lock)
    assert list(tmp_path.iterdir()) == []


def test_a_clean_up_at_the_instant_a_folder_is_made_leaves_it_to_its_run(tmp_path, monkeypatch):
    """Another run's clean-up may look between the lock file's creation and its lock."""
    target = tmp_path / "call_list.csv"
    real_flock, removed = fcntl.flock, []

    def flock_after_another_clean_up(fd, operation):
        if not removed:
            removed.append(remove_stale_working_folders(target))
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_another_clean_up)
    folder, held = open_working_folder(target)
    monkeypatch.undo()
    assert removed == [[]]
    assert folder.exists()
    assert try_exclusive_lock(folder / ".lock") is None
    close_working_folder(folder, held)


def test_two_clean_ups_of_one_killed_folder_both_finish(tmp_path, monkeypatch):
    target = tmp_path / "scored_leads"
    killed, killed_lock = open_working_folder(target)
    killed_lock.close()
    real_lock = working_folder.try_exclusive_lock

    def lock_after_the_other_clean_up_removed_it(path):
        shutil.rmtree(killed, ignore_errors=True)
        return real_lock(path)

    monkeypatch.setattr(
        working_folder, "try_exclusive_lock", lock_after_the_other_clean_up_removed_it
    )
    assert remove_stale_working_folders(target) == []
    assert list(tmp_path.iterdir()) == []
