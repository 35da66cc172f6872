"""Monte Carlo and TD(0) prediction against exact values."""

import gymnasium as gym
import numpy as np
import pytest

import groundup  # noqa: F401
from groundup import agents
from groundup.envs import GridWorldEnv, blackjack


@pytest.mark.parametrize("agent_id", ["mc-prediction", "td0-prediction"])
def test_blackjack_values_of_the_stick_on_20_policy(agent_id):
    exact = blackjack.policy_values(blackjack.stick_at(20))
    env = gym.make("Blackjack-v1")
    # the book's sample averages (alpha = 1/n), exact on Blackjack's short chains
    agent = agents.make(agent_id, env, policy=blackjack.stick_at(20), learning_rate=None, learning_rate_exponent=1.0,
                        gamma=1.0, seed=0)
    agent.learn(n_episodes=60_000)
    V = agent.value_function.reshape(32, 11, 2)
    visits = np.asarray(agent.N).reshape(32, 11, 2)
    often = visits >= 500
    assert often.sum() > 60
    assert np.abs(V[often] - exact[often]).mean() < 0.05  # the benchmark: < 0.05 after 500k episodes, 1,000 visits


def test_td0_matches_dynamic_programming_on_the_grid():
    env = gym.make("groundup/GridWorld-v0", step_reward=-0.1)
    uniform = np.full((12, 4), 0.25)
    dp = agents.make("policy-evaluation", env, policy=uniform, gamma=0.9).learn()
    td = agents.make("td0-prediction", env, policy=uniform, learning_rate=0.02, gamma=0.9, seed=0).learn(200_000)
    live = env.unwrapped.start_states
    assert np.abs(td.value_function[live] - dp.value_function[live]).max() < 0.08
    assert np.ptp(dp.value_function[live]) > 0.5  # a real spread of values to match


def test_mc_prediction_of_another_agents_policy():
    env = GridWorldEnv(slip_probability=0.2)
    vi = agents.make("value-iteration", env, gamma=0.9).learn()
    mc = agents.make("mc-prediction", env, policy=vi, gamma=0.9, seed=0).learn(n_episodes=3000)
    assert mc.value_function[8] == pytest.approx(vi.value_function[8], abs=0.03)
    every = agents.make("mc-prediction", env, policy=vi, gamma=0.9, first_visit=False, seed=0).learn(n_episodes=3000)
    assert every.value_function[8] == pytest.approx(vi.value_function[8], abs=0.03)


def test_constant_alpha_and_a_stochastic_callable_policy():
    env = gym.make("groundup/GridWorld-v0")
    rng = np.random.default_rng(0)
    random_policy = lambda obs: int(rng.integers(4))  # noqa: E731
    td = agents.make("td0-prediction", env, policy=random_policy, learning_rate=0.05, gamma=0.9, seed=0).learn(30_000)
    dp = agents.make("policy-evaluation", env, policy=np.full((12, 4), 0.25), gamma=0.9).learn()
    assert abs(td.value_function[8] - dp.value_function[8]) < 0.1
