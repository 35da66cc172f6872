"""benchmarks/telemetry.py: its smoke run end to end (a table row per workload, with the
overhead and the verdict against the 3% target)."""

from __future__ import annotations

import re

import pytest

from benchmarks import telemetry


def test_the_full_mode_times_the_issues_budgets():
    assert telemetry.CONFIGS["full"]["q_steps"] == 200_000 and telemetry.TARGET == 0.03
    assert telemetry.CONFIGS["full"]["repeats"] >= 5 and telemetry.CONFIGS["full"]["rbm_epochs"] is None


@pytest.mark.slow
def test_benchmark_smoke_run(tmp_path, run_benchmark):
    run_benchmark("telemetry", "--smoke", "--threads", "1", timeout=600)
    table = (tmp_path / "telemetry.md").read_text()
    rows = re.findall(r"^\| (q-learning|dqn|RBM)[^|]*\| [^|]+\| \d+ \| (\d+\.\d+) \| (\d+\.\d+) \| ([+-]\d+\.\d)% \| [+-]\d+\.\d% \| (yes|NO) \|$",
                      table, flags=re.M)
    assert [r[0] for r in rows] == ["q-learning", "dqn", "RBM"]
    for _, without, with_logs, overhead, verdict in rows:
        assert float(without) > 0 and float(with_logs) > 0
        # the table rounds seconds to 1 ms: the overhead recomputed from it agrees within that
        rounding = 100 * 0.001 * (1 + float(with_logs) / float(without)) / float(without)
        assert float(overhead) == pytest.approx(100 * (float(with_logs) / float(without) - 1), abs=rounding + 0.06)
        if abs(float(overhead) - 3.0) > 0.05:  # the verdict is on the unrounded overhead
            assert verdict == ("yes" if float(overhead) <= 3.0 else "NO")
    assert "command: `python -m benchmarks.telemetry --smoke`" in table
