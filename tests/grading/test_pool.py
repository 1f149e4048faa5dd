"""The worker pool behind `socklab grade --jobs N`."""
import types

import pytest

from socklab.grading.pool import Pool
from socklab.grading.sandbox import Limits, Sandbox


@pytest.mark.timeout(60)
def test_a_sandbox_that_cannot_start_gives_a_result_not_a_hang(tmp_path):
    """When a sandbox cannot even be created, does every job still come back (as a crash with the reason)?"""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the sandboxes' folder should be")
    pool = Pool(2, lambda workdir: Sandbox(workdir, limits=Limits(cell_timeout=5), isolation="none"), blocker)
    jobs = [types.SimpleNamespace(extras=tmp_path, payload={}, name=f"job{i}") for i in range(3)]
    for job in jobs:
        pool.submit(job)
    pool.close_input()
    outcomes = [pool.results.get(timeout=30) for _ in jobs]
    pool.shutdown()
    assert sorted(job.name for job, _ in outcomes) == ["job0", "job1", "job2"]
    for _job, outcome in outcomes:
        assert outcome["status"] == "crash" and "grader error" in outcome["reason"], outcome
