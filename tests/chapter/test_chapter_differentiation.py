"""Forward vs central differences: truncation vs rounding error, and h rounding to zero."""

import numpy as np
import pytest

from scratchnet.chapter.differentiation import (
    FUNCTIONS,
    abs_errors,
    best_step,
    central_difference,
    chapter_function,
    decade_steps,
    estimates,
    forward_difference,
    tangent,
)

HS = decade_steps(1, 50)
F, DF = FUNCTIONS["chapter"]


def test_steps_run_one_per_decade_from_1e_minus_1_to_1e_minus_50():
    assert len(HS) == 50
    assert HS[0] == pytest.approx(1e-1)
    assert HS[-1] == pytest.approx(1e-50)


def test_float32_cannot_hold_1e_minus_50():
    assert np.float32(1e-50) == 0


def test_in_float32_h_1e_minus_50_makes_the_derivative_0_over_0():
    for method in ("forward", "central"):
        assert np.isnan(estimates(F, 5.0, HS, method, "float32")[-1])


def test_in_float64_h_1e_minus_50_vanishes_against_x_so_the_derivative_is_0():
    for method in ("forward", "central"):
        assert estimates(F, 5.0, HS, method, "float64")[-1] == 0.0


def test_forward_error_falls_with_h_then_rounding_makes_it_rise():
    errors = abs_errors(estimates(F, 5.0, HS, "forward", "float64"), DF(5.0))
    best = best_step(HS, errors)
    assert 1e-9 <= best.h <= 1e-6
    assert errors[0] > 100 * best.error  # h = 0.1: truncation error 0.01 h
    assert errors[14] > 100 * best.error  # h = 1e-15: rounding error


def test_float32_rounding_takes_over_at_a_much_larger_h():
    err64 = abs_errors(estimates(F, 5.0, HS, "forward", "float64"), DF(5.0))
    err32 = abs_errors(estimates(F, 5.0, HS, "forward", "float32"), DF(5.0))
    assert best_step(HS, err32).h > best_step(HS, err64).h
    assert best_step(HS, err32).error > best_step(HS, err64).error


def test_central_difference_of_a_quadratic_is_exact_but_for_rounding():
    errors = abs_errors(estimates(F, 5.0, HS, "central", "float64"), DF(5.0))
    assert errors[0] < 1e-14


def test_central_beats_forward_where_truncation_dominates():
    f, df = FUNCTIONS["sin"]
    h = 1e-3
    forward = abs(forward_difference(f, 1.0, h) - df(1.0))
    central = abs(central_difference(f, 1.0, h) - df(1.0))
    assert central < forward / 100


def test_best_step_ignores_nan_errors():
    best = best_step(np.array([1e-1, 1e-2, 1e-3]), np.array([1e-3, np.nan, 1e-5]))
    assert best.h == 1e-3
    assert best.error == 1e-5


@pytest.mark.parametrize(("x0", "slope"), [(5.0, 0.2), (10.0, 0.3)])
def test_the_chapter_tangents_have_slopes_0_2_and_0_3(x0, slope):
    line = tangent(chapter_function, x0)
    assert line.slope == pytest.approx(slope, abs=1e-8)
    assert line.slope * x0 + line.intercept == pytest.approx(chapter_function(x0))
