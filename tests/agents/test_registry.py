import importlib.metadata
import textwrap
import warnings

import gymnasium as gym
import pytest

from groundup import agents

TABULAR_IDS = {"epsilon-greedy", "optimistic-initial-values", "ucb1", "thompson-sampling", "policy-evaluation",
               "policy-iteration", "value-iteration", "mc-prediction", "mc-exploring-starts", "mc-control",
               "td0-prediction", "sarsa", "q-learning"}


def test_the_thirteen_tabular_ids_are_registered_with_their_families():
    assert TABULAR_IDS <= set(agents.registry)
    spec = agents.registry["q-learning"]
    assert spec.family == "temporal difference" and spec.summary
    assert spec.observation_spaces == ("Discrete", "Tuple[Discrete]") and spec.action_spaces == ("Discrete",)
    assert agents.registry["value-iteration"].requires_model and not spec.requires_model
    assert agents.registry["mc-prediction"].is_prediction and not spec.is_prediction
    families = {agents.registry[i].family for i in TABULAR_IDS}
    assert families == {"bandits", "dynamic programming", "Monte Carlo", "temporal difference"}


def test_make_builds_the_agent_and_unknown_ids_list_the_known_ones():
    agent = agents.make("sarsa", gym.make("FrozenLake-v1"), learning_rate=0.3)
    assert agent.agent_id == "sarsa" and agent.learning_rate == 0.3
    with pytest.raises(ValueError, match="unknown agent id 'sarsa2'.*q-learning"):
        agents.make("sarsa2", gym.make("FrozenLake-v1"))


def test_register_checks_its_arguments():
    with pytest.raises(ValueError, match="already registered"):
        agents.register("q-learning", "x.y:Z", "temporal difference")
    with pytest.raises(ValueError, match="module:ClassName"):
        agents.register("new-one", "no_colon", "bandits")
    with pytest.raises(ValueError, match="agent id"):
        agents.register("has space", "x.y:Z", "bandits")


def test_register_with_default_kwargs_and_override():
    try:
        agents.register("greedy-testing", "groundup.agents.bandits:EpsilonGreedyBandit", "bandits", "greedy",
                        kwargs={"epsilon": 0.0})
        agent = agents.make("greedy-testing", gym.make("groundup/Bandit-v0"))
        assert agent.epsilon == 0.0 and agent.agent_id == "greedy-testing"
        agents.register("greedy-testing", "groundup.agents.bandits:UCB1", "bandits", override=True)
        assert agents.registry["greedy-testing"].load().__name__ == "UCB1"
    finally:
        dict.pop(agents.registry, "greedy-testing", None)


def _plugin_module(tmp_path, monkeypatch):
    (tmp_path / "groundup_plugin_demo.py").write_text(textwrap.dedent('''
        from groundup import agents
        from groundup.agents.temporal_difference import QLearning

        class DoubleQ(QLearning):
            """A third-party agent."""
            family = "temporal difference"

        def register_all():
            agents.register("plugin-by-function", DoubleQ, "temporal difference", "registered by a function")

        not_an_agent = 42
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_entry_points_add_agents(tmp_path, monkeypatch):
    _plugin_module(tmp_path, monkeypatch)
    eps = [
        importlib.metadata.EntryPoint("plugin-class", "groundup_plugin_demo:DoubleQ", "groundup.agents"),
        importlib.metadata.EntryPoint("plugin-fn", "groundup_plugin_demo:register_all", "groundup.agents"),
        importlib.metadata.EntryPoint("plugin-bad", "groundup_plugin_demo:not_an_agent", "groundup.agents"),
        importlib.metadata.EntryPoint("plugin-missing", "no_such_module_xyz:Thing", "groundup.agents"),
    ]

    def fake_entry_points(group):
        assert group == "groundup.agents"
        return eps

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    monkeypatch.setattr(agents.registry, "_plugins_loaded", False)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert "plugin-class" in agents.registry  # first access loads the plugins
        messages = " ".join(str(w.message) for w in caught)
        assert "plugin-bad" in messages and "plugin-missing" in messages
        assert "plugin-fn" not in messages
        agent = agents.make("plugin-class", gym.make("FrozenLake-v1"))
        assert type(agent).__name__ == "DoubleQ"
        assert agents.registry["plugin-by-function"].summary == "registered by a function"
        assert "q-learning" in agents.registry  # the built-ins survive a broken plugin
    finally:
        for key in ("plugin-class", "plugin-by-function"):
            dict.pop(agents.registry, key, None)


def test_an_installed_distribution_adds_its_agents_through_its_entry_points(tmp_path):
    """No monkeypatching: a real ``.dist-info`` with ``entry_points.txt`` on the path of a
    fresh interpreter, found by importlib.metadata the way pip-installed plugins are."""
    import os
    import subprocess
    import sys

    (tmp_path / "groundup_plugin_real.py").write_text(textwrap.dedent('''
        from groundup.agents.temporal_difference import QLearning

        class RealPluginAgent(QLearning):
            """An agent shipped by another distribution."""
            family = "temporal difference"
    '''))
    dist = tmp_path / "groundup_plugin_real-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: groundup-plugin-real\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[groundup.agents]\nreal-plugin = groundup_plugin_real:RealPluginAgent\n")
    code = ("import gymnasium as gym; from groundup import agents; "
            "a = agents.make('real-plugin', gym.make('FrozenLake-v1'), seed=0); "
            "print(type(a).__name__, agents.registry['real-plugin'].family)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "RealPluginAgent temporal difference"
