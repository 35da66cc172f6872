"""Smoke tests: the tabular benchmarks run end to end and write their tables and plots."""



def test_bandits_quick(tmp_path, run_benchmark):
    run_benchmark("bandits", "--quick", timeout=600)
    table = (tmp_path / "bandits.md").read_text()
    assert "| epsilon 0.1 | `epsilon-greedy` |" in table and "Thompson" in table
    assert (tmp_path / "bandits_testbed.png").stat().st_size > 10_000


def test_rl_tabular_smoke(tmp_path, run_benchmark):
    run_benchmark("rl_tabular", "--smoke", timeout=600)
    table = (tmp_path / "rl_tabular.md").read_text()
    for heading in ("Dynamic programming", "Cliff Walking", "Blackjack-v1", "Speed"):
        assert heading in table
    assert "V(start) = 0.5420" in table
    for png in ("rl_tabular_frozenlake.png", "rl_tabular_cliff.png", "rl_tabular_blackjack.png"):
        assert (tmp_path / png).stat().st_size > 10_000
