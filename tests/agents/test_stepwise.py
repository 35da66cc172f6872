"""The loop every step-by-step learner shares (agents/stepwise.py), the deep agents' skeleton
(agents/deep.py) and the one random tie-breaking argmax (agents/exploration.py)."""

import random

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import groundup  # noqa: F401
from groundup.agents.deep import DeepAgent
from groundup.agents.exploration import argmax_random_ties, greedy
from groundup.agents.tabular import TabularAgent


class Corridor(gym.Env):
    """States 0, 1, 2, 3; every step moves right with reward 1; state 3 terminates."""

    observation_space = spaces.Discrete(4)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return self.s, {}

    def step(self, action):
        self.s += 1
        return self.s, 1.0, self.s == 3, False, {}


class Recorder(TabularAgent):
    """Logs every hook call."""

    def __init__(self, env, **kwargs):
        super().__init__(env, **kwargs)
        self.calls = []

    def start_episode(self, S):
        self.calls.append(("start", S))
        return 0

    def update(self, S, A, R, S_next, terminated):
        self.calls.append(("update", S, A, R, S_next, terminated))
        return 1

    def end_episode(self, truncated):
        self.calls.append(("end", truncated))


def test_the_loop_calls_the_hooks_in_order_and_counts():
    agent = Recorder(Corridor(), seed=0)
    seen = []
    agent.learn(7, callback=lambda l, g: seen.append((l["t"], l["A"], l["R"], l["terminated"])))
    episode = [("start", 0), ("update", 0, 0, 1.0, 1, False), ("update", 1, 1, 1.0, 2, False),
               ("update", 2, 1, 1.0, 3, True), ("end", False)]
    assert agent.calls == episode + episode + [("start", 0), ("update", 0, 0, 1.0, 1, False)]
    assert agent.num_timesteps == 7 and agent.num_episodes == 2
    assert agent.episode_returns == [3.0, 3.0] and agent.episode_lengths == [3, 3]
    # the callback runs after every step and sees the action just taken
    assert [t for t, *_ in seen] == list(range(1, 8))
    assert [a for _, a, _, _ in seen] == [0, 1, 1, 0, 1, 1, 0]
    assert [term for *_, term in seen] == [False, False, True] * 2 + [False]


def test_an_episode_budget_and_a_truncation():
    env = gym.wrappers.TimeLimit(Corridor(), max_episode_steps=2)
    agent = Recorder(env, seed=0).learn(n_episodes=3)
    assert agent.num_episodes == 3 and agent.num_timesteps == 6
    ends = [c for c in agent.calls if c[0] == "end"]
    assert ends == [("end", True)] * 3  # truncated by the time limit ...
    assert all(c[-1] is False for c in agent.calls if c[0] == "update")  # ... so never terminated


def test_the_callback_stops_the_loop_and_progress_is_reported():
    class Scheduled(Recorder):
        _uses_progress = True

        def _on_progress(self, progress):
            self.calls.append(("progress", progress))

    agent = Scheduled(Corridor(), seed=0).learn(4, callback=lambda l, g: l["t"] < 2)
    assert agent.num_timesteps == 2
    assert [c for c in agent.calls if c[0] == "progress"] == [("progress", 0.25), ("progress", 0.5)]


def test_an_algorithm_that_chooses_afresh_is_asked_before_every_step():
    class Afresh(Recorder):
        def start_episode(self, S):
            self.calls.append(("start", S))

        def update(self, S, A, R, S_next, terminated):
            self.calls.append(("update", S, A))

        def act(self, S):
            self.calls.append(("act", S))
            return 1

    agent = Afresh(Corridor(), seed=0).learn(n_episodes=1)
    assert agent.calls == [("start", 0), ("act", 0), ("update", 0, 1), ("act", 1), ("update", 1, 1),
                           ("act", 2), ("update", 2, 1), ("end", False), ("start", 0)]  # and no act() after it


def test_vector_bandits_count_every_run_and_expose_the_pulls_of_each_run():
    from groundup import agents

    venv = gym.make_vec("groundup/Bandit-v0", num_envs=4, vectorization_mode="vector_entry_point", max_episode_steps=5)
    its = []
    agent = agents.make("epsilon-greedy", venv, seed=0).learn(40, callback=lambda l, g: its.append(l["it"]))
    assert its == list(range(1, 11)) and agent.num_timesteps == 40 and agent.t == 10
    assert agent.num_episodes == 8 and agent.episode_lengths == [5] * 8
    assert agent.N.sum() == 40


# -- the deep skeleton ------------------------------------------------------------------------------
class Skeleton(DeepAgent):
    agent_id = "skeleton-test"
    action_spaces = ("Discrete",)

    def __init__(self, env, **kwargs):
        super().__init__(env, learning_rate=1e-3, learning_rate_schedule="constant", scale_observations=False,
                         gamma=0.99, seed=0, verbose=0, device="cpu")
        self.calls = []

    def _begin_run(self, runner):
        self.calls.append(("begin", self.num_timesteps))

    def _collect_step(self, runner):
        runner.step(np.zeros(runner.n_envs, dtype=np.int64))
        self.num_timesteps += runner.n_envs
        self.calls.append(("collect", self.num_timesteps))

    def _train_step(self, runner):
        self.calls.append(("train", self.num_timesteps, bool(runner.done[0])))


def test_the_deep_skeleton_runs_collect_then_train_for_every_step():
    env = gym.make("CartPole-v1")
    agent = Skeleton(env)
    agent.learn(30)
    assert agent.calls[0] == ("begin", 0)
    steps = agent.calls[1:]
    assert [c[0] for c in steps] == ["collect", "train"] * 30
    assert [c[1] for c in steps[::2]] == list(range(1, 31))
    ends = [c[1] for c in steps[1::2] if c[2]]
    assert agent.num_episodes == len(ends) == len(agent.episode_returns) > 0  # always pushing left ends quickly
    assert np.cumsum(agent.episode_lengths).tolist() == ends
    agent.calls.clear()
    agent.learn(5, callback=lambda l, g: l["self"].num_timesteps < 32)  # a second call continues the count
    assert agent.calls[0] == ("begin", 30) and agent.num_timesteps == 32


# -- argmax with random ties ------------------------------------------------------------------------
def test_greedy_breaks_ties_uniformly():
    rng = random.Random(0)
    counts = np.bincount([greedy([1.0, 2.0, 0.5, 2.0, 2.0], rng) for _ in range(30_000)], minlength=5)
    assert counts[0] == counts[2] == 0
    # each of the three tied actions 1/3 of the time; the standard error is 0.003
    np.testing.assert_allclose(counts[[1, 3, 4]] / 30_000, 1 / 3, atol=0.015)
    assert greedy([0.0, 3.0, 1.0], rng) == 1  # no tie: no draw needed


def test_greedy_on_a_numpy_row_draws_as_on_a_list():
    a, b = random.Random(5), random.Random(5)
    row = np.array([1.0, 1.0, 0.0, 1.0])
    assert [greedy(row, a) for _ in range(200)] == [greedy(row.tolist(), b) for _ in range(200)]


def test_argmax_random_ties_is_uniform_over_each_rows_ties():
    rng = np.random.default_rng(0)
    values = np.tile([[0.0, 1.0, 1.0, -1.0]], (30_000, 1))
    counts = np.bincount(argmax_random_ties(values, rng), minlength=4)
    assert counts[0] == counts[3] == 0
    np.testing.assert_allclose(counts[1:3] / 30_000, 0.5, atol=0.015)
    np.testing.assert_array_equal(argmax_random_ties(np.array([[3.0, 1.0], [0.0, 2.0]]), rng), [0, 1])


@pytest.mark.parametrize("agent_id", ["q-learning", "semi-gradient-sarsa"])
def test_control_agents_break_ties_at_random(agent_id):
    from groundup import agents

    agent = agents.make(agent_id, gym.make("FrozenLake-v1"), epsilon=0.0, seed=0)
    if agent_id == "q-learning":
        choices = [agent.behaviour(0) for _ in range(2000)]  # all of Q(0, .) is 0: four ties
    else:
        agent.featurizer
        choices = [agent.behaviour(np.zeros(4)) for _ in range(2000)]
    counts = np.bincount(choices, minlength=4) / 2000
    np.testing.assert_allclose(counts, 0.25, atol=0.05)
