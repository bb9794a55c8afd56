"""Gradient descent on x0^2 + x1^2 from (-3, 4): the chapter's learning-rate verdicts."""

import numpy as np
import pytest

from scratchnet.chapter.descent import (
    CONVERGED,
    DIVERGED,
    STALLED,
    descend,
    field_error,
    gradient_field,
    verdict,
)


def chapter_descent(lr: float, step_num: int = 100):
    return descend(lr, [-3.0, 4.0], step_num, converged_below=1e-6, diverged_factor=2.0)


def test_lr_0_1_converges_to_within_1e_minus_8_in_100_steps():
    d = chapter_descent(0.1)
    assert d.verdict == CONVERGED
    assert d.final_distance < 1e-8


def test_lr_10_diverges_to_about_1e13_and_stays_finite():
    d = chapter_descent(10.0)
    assert d.verdict == DIVERGED
    assert np.all(np.isfinite(d.distances))
    assert 1e12 < d.final_distance < 1e14


def test_lr_1e_minus_10_stalls_at_the_start():
    d = chapter_descent(1e-10)
    assert d.verdict == STALLED
    assert d.final_distance == pytest.approx(5.0, rel=1e-6)


def test_lr_1_oscillates_at_the_start_distance_and_counts_as_stalled():
    d = chapter_descent(1.0)
    assert d.verdict == STALLED
    assert d.final_distance == pytest.approx(5.0)


def test_the_path_holds_the_start_and_every_step():
    d = chapter_descent(0.1, step_num=7)
    assert d.path.shape == (8, 2)
    assert d.path[0].tolist() == [-3.0, 4.0]
    assert d.distances[0] == 5.0


def test_a_non_finite_distance_is_diverged():
    dist = np.array([5.0, 1e300, np.inf, np.nan])
    assert verdict(dist, converged_below=1e-6, diverged_factor=2.0) == DIVERGED


def test_a_huge_lr_overflows_and_is_diverged_without_warnings():
    with np.errstate(all="raise"):
        d = descend(1e200, [-3.0, 4.0], 5, converged_below=1e-6, diverged_factor=2.0)
    assert d.verdict == DIVERGED
    assert not np.isfinite(d.final_distance)


def test_the_numerical_gradient_field_is_2x_everywhere():
    field = gradient_field(-2.0, 2.0, 5)
    assert field.x0.shape == (5, 5)
    assert field_error(field) < 1e-9
    assert field.g0[2, 2] == pytest.approx(0.0) and field.g1[2, 2] == pytest.approx(0.0)
