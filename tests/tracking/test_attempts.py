"""Which attempts of a configuration count: the newest FINISHED, else the newest."""

from scratchnet.tracking.attempts import Attempt, superseded


def test_a_killed_attempt_is_superseded_by_the_one_that_finished():
    runs = [Attempt("killed", "h1", "KILLED", 1), Attempt("done", "h1", "FINISHED", 2)]
    assert superseded(runs) == {"killed": "done"}


def test_the_newest_attempt_counts_when_none_finished():
    runs = [Attempt("old", "h1", "KILLED", 1), Attempt("new", "h1", "FAILED", 5)]
    assert superseded(runs) == {"old": "new"}


def test_different_configs_and_runs_without_a_hash_never_supersede_each_other():
    runs = [
        Attempt("a", "h1", "KILLED", 1),
        Attempt("b", "h2", "FINISHED", 2),
        Attempt("c", None, "KILLED", 3),
        Attempt("d", None, "FINISHED", 4),
    ]
    assert superseded(runs) == {}
