"""The one linear schedule that epsilon, the tabular alpha and the deep learning rate follow."""

import pytest

from groundup.agents.exploration import EpsilonSchedule, linear_schedule


def test_linear_schedule_moves_over_its_fraction_then_holds():
    assert linear_schedule(1.0, 0.1, 0.0) == 1.0
    assert linear_schedule(1.0, 0.1, 0.5) == pytest.approx(0.55, abs=1e-15)
    assert linear_schedule(1.0, 0.1, 1.0) == 0.1 and linear_schedule(1.0, 0.1, 1.5) == 0.1
    assert linear_schedule(0.5, 0.01, 0.25, fraction=0.5) == pytest.approx(0.255, abs=1e-15)
    assert linear_schedule(0.5, 0.01, 0.5, fraction=0.5) == 0.01
    assert linear_schedule(0.5, 0.01, 0.0, fraction=0.0) == 0.01  # a zero fraction: the end value at once


def test_epsilon_schedule_is_the_linear_schedule_or_a_constant():
    schedule = EpsilonSchedule(None, 1.0, 0.05, 0.5)
    assert [schedule.value(p) for p in (0.0, 0.25, 0.5, 0.9)] == [linear_schedule(1.0, 0.05, p, 0.5) for p in (0.0, 0.25, 0.5, 0.9)]
    assert EpsilonSchedule(0.2, 1.0, 0.05, 0.5).value(0.1) == 0.2  # epsilon fixes it
