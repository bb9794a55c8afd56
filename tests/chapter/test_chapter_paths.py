"""Chapter 6.1's optimizer paths on x^2/20 + y^2 from (-7, 2), against the rules by hand."""

import math

import pytest

from scratchnet.chapter.paths import optimizer_path, valley, valley_gradient

START = (-7.0, 2.0)
BOOK_LRS = {"sgd": 0.95, "momentum": 0.1, "adagrad": 1.5, "adam": 0.3}


def sgd_by_hand(lr: float, steps: int) -> tuple[float, float]:
    x, y = START
    for _ in range(steps):
        gx, gy = x / 10, 2 * y
        x, y = x - lr * gx, y - lr * gy
    return x, y


def adam_by_hand(lr: float, steps: int, beta1=0.9, beta2=0.999) -> tuple[float, float]:
    p, m, v = list(START), [0.0, 0.0], [0.0, 0.0]
    for t in range(1, steps + 1):
        g = [p[0] / 10, 2 * p[1]]
        lr_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        for i in range(2):
            m[i] += (1 - beta1) * (g[i] - m[i])
            v[i] += (1 - beta2) * (g[i] ** 2 - v[i])
            p[i] -= lr_t * m[i] / (math.sqrt(v[i]) + 1e-7)
    return p[0], p[1]


def test_the_valley_and_its_gradient():
    assert valley(-7.0, 2.0) == pytest.approx(49 / 20 + 4)
    assert valley_gradient(-7.0, 2.0) == (-0.7, 4.0)


def test_a_path_holds_the_start_and_every_step_with_f_there():
    path = optimizer_path("momentum", 0.1, START, 30)
    assert path.points.shape == (31, 2)
    assert tuple(path.points[0]) == START
    assert path.values[0] == pytest.approx(valley(*START))


@pytest.mark.parametrize("steps", [1, 2, 30])
def test_sgd_and_adam_follow_their_rules_step_by_step(steps):
    sgd = optimizer_path("sgd", 0.95, START, steps)
    assert sgd.end == pytest.approx(sgd_by_hand(0.95, steps), rel=1e-13)
    adam = optimizer_path("adam", 0.3, START, steps)
    assert adam.end == pytest.approx(adam_by_hand(0.3, steps), rel=1e-12)


def test_the_first_two_momentum_steps_by_hand():
    points = optimizer_path("momentum", 0.1, START, 2).points
    v1 = (-0.1 * -0.7, -0.1 * 4.0)
    p1 = (START[0] + v1[0], START[1] + v1[1])
    g1 = (p1[0] / 10, 2 * p1[1])
    p2 = (p1[0] + 0.9 * v1[0] - 0.1 * g1[0], p1[1] + 0.9 * v1[1] - 0.1 * g1[1])
    assert tuple(points[1]) == pytest.approx(p1, rel=1e-14)
    assert tuple(points[2]) == pytest.approx(p2, rel=1e-14)


def test_sgd_zigzags_across_the_valley_while_adagrad_flattens_y_at_once():
    sgd = optimizer_path("sgd", 0.95, START, 30)
    signs = [math.copysign(1, y) for y in sgd.points[:6, 1]]
    assert signs == [1, -1, 1, -1, 1, -1]  # y <- y (1 - 2 lr) = -0.9 y
    adagrad = optimizer_path("adagrad", 1.5, START, 30)
    assert abs(adagrad.end[1]) < 1e-12 and adagrad.end[0] < 0


def test_every_book_optimizer_ends_closer_to_the_minimum_than_it_started():
    for name, lr in BOOK_LRS.items():
        path = optimizer_path(name, lr, START, 30)
        assert path.values[-1] < 0.05 * path.values[0], name
