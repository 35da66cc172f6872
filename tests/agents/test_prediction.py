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


# -- visit-count step sizes (issue 15) -------------------------------------------------------------------------
def test_td0_steps_are_one_over_the_visits_to_the_0_7():
    env = gym.make("groundup/GridWorld-v0")
    agent = agents.make("td0-prediction", env, policy=np.full((12, 4), 0.25), seed=0)
    assert agent.learning_rate is None and agent.learning_rate_exponent == 0.7
    steps = []
    for R in (1.0, 0.0, 0.0):  # three visits of state 3, each ending the episode with reward R
        agent.update(3, 0, R, 7, terminated=True)
        steps.append(agent.step_size(3))
    assert steps == [1.0, 2**-0.7, 3**-0.7]
    assert agent.N[3] == 3
    assert agent.V[3] == pytest.approx((1 - 2**-0.7) * (1 - 3**-0.7), abs=1e-15)
    book = agents.make("td0-prediction", env, policy=np.full((12, 4), 0.25), learning_rate_exponent=1.0, seed=0)
    for R in (1.0, 0.0, 0.0):
        book.update(3, 0, R, 7, terminated=True)
    assert book.V[3] == pytest.approx(1 / 3, abs=1e-15)  # sample averages
    constant = agents.make("td0-prediction", env, policy=np.full((12, 4), 0.25), learning_rate=0.1, seed=0)
    constant.update(3, 0, 1.0, 7, terminated=True)
    assert constant.V[3] == 0.1


def test_td0_saves_and_loads_its_visit_counts(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = agents.make("td0-prediction", env, policy=np.full((16, 4), 0.25), learning_rate_exponent=0.9, seed=0)
    agent.learn(2000)
    agent.save(tmp_path / "td0.safetensors")
    loaded = agents.load(tmp_path / "td0.safetensors", env=env)
    assert loaded.learning_rate is None and loaded.learning_rate_exponent == 0.9
    assert loaded.N == agent.N and agent.N[0] > 1
    for a in (agent, loaded):
        a.update(0, 0, 1.0, 4, terminated=False)
    assert loaded.V == agent.V and loaded.step_size(0) == (agent.N[0]) ** -0.9


def test_a_td0_file_from_before_the_exponent_keeps_sample_averages():
    from pathlib import Path

    from groundup import persistence

    path = Path(__file__).resolve().parents[1] / "fixtures" / "agents_before_protocol" / "td0-prediction.safetensors"
    assert "learning_rate_exponent" not in persistence.load(path)[1]["hyperparameters"]
    agent = agents.load(path, env=gym.make("FrozenLake-v1"))
    assert agent.learning_rate is None and agent.learning_rate_exponent == 1.0
    n = agent.N[0]
    agent.count_visit(0)
    assert n > 1 and agent.step_size(0) == 1.0 / (n + 1)  # alpha = 1/n, as when it was saved


@pytest.mark.parametrize("kwargs, error, message", [
    ({"learning_rate": 0}, ValueError, r"learning_rate must be a positive finite number or None \(alpha = "
                                       r"1/n\^learning_rate_exponent, n the visits\); got 0"),
    ({"learning_rate": -1}, ValueError, r"learning_rate must be a positive finite number.*; got -1"),
    ({"learning_rate_exponent": 0.3}, ValueError, r"learning_rate_exponent must be a number in \(0.5, 1\]; got 0.3"),
    ({"learning_rate_exponent": "0.7"}, TypeError, r"learning_rate_exponent must be a number in \(0.5, 1\]; got '0.7' of"),
])
@pytest.mark.parametrize("agent_id", ["td0-prediction", "mc-prediction"])
def test_bad_step_sizes_are_named(agent_id, kwargs, error, message):
    with pytest.raises(error, match=message):
        agents.make(agent_id, gym.make("FrozenLake-v1"), policy=np.full((16, 4), 0.25), **kwargs)
