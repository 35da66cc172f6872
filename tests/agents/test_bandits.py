"""The 10-armed testbed (Sutton & Barto, section 2.3): 2,000 runs x 1,000 steps."""

import gymnasium as gym
import numpy as np
import pytest

import groundup  # noqa: F401
from groundup import agents


def run_testbed(agent_id, runs=2000, steps=1000, seed=0, arm_distribution="gaussian", **kwargs):
    venv = gym.make_vec("groundup/Bandit-v0", num_envs=runs, vectorization_mode="vector_entry_point",
                        arm_distribution=arm_distribution)
    rewards, optimal, regret = [], [], []

    def record(locals_, globals_):
        rewards.append(locals_["R"].mean())
        optimal.append(locals_["info"]["is_optimal"].mean())
        regret.append(locals_["info"]["regret"].mean())

    agent = agents.make(agent_id, venv, seed=seed, **kwargs).learn(runs * steps, callback=record)
    return agent, np.array(rewards), np.array(optimal), np.array(regret)


@pytest.mark.parametrize("agent_id, kwargs, expected", [
    ("epsilon-greedy", {"epsilon": 0.1}, 1.37),
    ("optimistic-initial-values", {"initial_value": 5.0, "learning_rate": 0.1}, 1.50),
    ("ucb1", {"c": 2.0}, 1.49),
])
def test_book_figures_of_the_testbed(agent_id, kwargs, expected):
    agent, rewards, optimal, _ = run_testbed(agent_id, **kwargs)
    assert agent.num_timesteps == 2_000_000 and agent.Q.shape == (2000, 10)
    assert abs(rewards[900:].mean() - expected) < 0.05


def test_thompson_sampling_beats_the_others():
    _, rewards, optimal, regret = run_testbed("thompson-sampling")
    assert rewards[900:].mean() >= 1.50
    assert optimal[900:].mean() > 0.88


def test_greedy_without_optimism_gets_stuck():
    _, greedy, _, _ = run_testbed("epsilon-greedy", epsilon=0.0, runs=500)
    _, explore, _, _ = run_testbed("epsilon-greedy", epsilon=0.1, runs=500)
    assert greedy[900:].mean() < explore[900:].mean() - 0.2  # Figure 2.2: about 1.0 against 1.37


def test_bernoulli_thompson_has_less_regret_than_epsilon_greedy():
    _, _, _, ts = run_testbed("thompson-sampling", runs=500, arm_distribution="bernoulli")
    _, _, _, eg = run_testbed("epsilon-greedy", runs=500, arm_distribution="bernoulli")
    assert ts.sum() < 0.5 * eg.sum()


def test_a_single_bandit_learns_its_best_arm():
    env = gym.make("groundup/Bandit-v0")
    agent = agents.make("ucb1", env, seed=1).learn(3000)
    assert agent.predict(0)[0] == env.unwrapped.optimal_action
    assert agent.num_episodes == 3  # 1000-step episodes
    batch, _ = agent.predict(np.zeros(4, dtype=np.int64))
    assert batch.shape == (4,)
