"""The suite's start order (tests/schedule.py) names only modules that exist."""

from schedule import LONGEST_FIRST, TESTS, start_rank


def test_every_module_listed_to_start_first_exists_once():
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    missing = [name for name in LONGEST_FIRST if not (TESTS / name).is_file()]
    assert missing == []


def test_a_listed_module_starts_before_any_other_in_its_listed_order():
    ranks = [start_rank(TESTS / name) for name in LONGEST_FIRST]
    assert ranks == sorted(ranks) == list(range(len(LONGEST_FIRST)))
    assert start_rank(TESTS / "test_config.py") == len(LONGEST_FIRST)
