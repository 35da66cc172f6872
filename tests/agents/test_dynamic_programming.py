"""Dynamic programming against closed forms and published numbers."""

import gymnasium as gym
import numpy as np
import pytest

import groundup  # noqa: F401
from groundup import agents
from groundup.envs import GridWorldEnv, WindyGridWorldEnv


@pytest.mark.parametrize("gamma, expected", [(0.99, 0.5420), (1.0, 0.8235)])
def test_frozen_lake_start_value_and_both_methods_agree(gamma, expected):
    env = gym.make("FrozenLake-v1")  # 4x4, slippery
    vi = agents.make("value-iteration", env, gamma=gamma).learn()
    pi = agents.make("policy-iteration", env, gamma=gamma).learn()
    assert vi.converged_ and pi.converged_
    assert abs(vi.value_function[0] - expected) < 1e-3
    assert abs(pi.value_function[0] - expected) < 1e-3
    np.testing.assert_allclose(vi.value_function, pi.value_function, atol=1e-8)
    np.testing.assert_array_equal(vi.policy, pi.policy)


def test_russell_norvig_utilities_of_the_slippery_grid():
    # Russell & Norvig, Figure 17.3: gamma 1, reward -0.04 in every non-terminal state, moves
    # succeed with 0.8. Their utility U(s) counts the reward of being in s; Gymnasium's
    # rewards come with the transition into a state, so V(s) = U(s) + 0.04.
    env = GridWorldEnv(slip_probability=0.2, step_reward=-0.04)
    V = agents.make("value-iteration", env, gamma=1.0, theta=1e-12).learn().value_function
    utilities = {0: 0.812, 1: 0.868, 2: 0.918, 4: 0.762, 6: 0.660, 8: 0.705, 9: 0.655, 10: 0.611, 11: 0.388}
    for s, u in utilities.items():
        assert abs(V[s] - (u + 0.04)) < 1e-3, (s, V[s], u)


def test_windy_grid_world_shortest_path_is_15_steps():
    env = gym.make("groundup/WindyGridWorld-v0")
    vi = agents.make("value-iteration", env, gamma=1.0).learn()
    assert vi.value_function[WindyGridWorldEnv.to_state(3, 0)] == pytest.approx(-15.0)
    obs, _ = env.reset(seed=0)
    for steps in range(1, 100):
        obs, r, terminated, truncated, _ = env.step(vi.predict(obs)[0])
        if terminated:
            break
    assert steps == 15
    king = agents.make("value-iteration", gym.make("groundup/WindyGridWorld-v0", king_moves=True), gamma=1.0).learn()
    assert king.value_function[WindyGridWorldEnv.to_state(3, 0)] == pytest.approx(-7.0)  # Exercise 6.9


def _linear_solve(env, pi, gamma):
    n_s, n_a = env.observation_space.n, env.action_space.n
    P = np.zeros((n_s, n_s))
    R = np.zeros(n_s)
    for s in range(n_s):
        for a in range(n_a):
            for prob, s2, r, done in env.P[s][a]:
                R[s] += pi[s, a] * prob * r
                if not done:
                    P[s, s2] += pi[s, a] * prob
    return np.linalg.solve(np.eye(n_s) - gamma * P, R)


@pytest.mark.parametrize("slip", [0.0, 0.2])
def test_policy_evaluation_equals_the_linear_solve(slip):
    env = GridWorldEnv(slip_probability=slip, step_reward=-0.1)
    uniform = np.full((12, 4), 0.25)
    agent = agents.make("policy-evaluation", env, policy=uniform, gamma=0.9).learn()
    np.testing.assert_allclose(agent.value_function, _linear_solve(env, uniform, 0.9), atol=1e-6)


def test_policy_evaluation_takes_an_agent_or_a_callable():
    env = GridWorldEnv()
    vi = agents.make("value-iteration", env, gamma=0.9).learn()
    from_agent = agents.make("policy-evaluation", env, policy=vi, gamma=0.9).learn()
    np.testing.assert_allclose(from_agent.value_function, vi.value_function, atol=1e-8)
    always_up = agents.make("policy-evaluation", env, policy=lambda obs: 3, gamma=0.9).learn()
    np.testing.assert_allclose(always_up.value_function, _linear_solve(env, np.eye(4)[[3] * 12], 0.9), atol=1e-6)


def test_tic_tac_toe_is_a_draw_against_perfect_play_and_a_win_against_random():
    perfect = agents.make("value-iteration", gym.make("groundup/TicTacToe-v0", opponent="perfect"), gamma=1.0).learn()
    assert perfect.value_function[0] == pytest.approx(0.0, abs=1e-9)
    env = gym.make("groundup/TicTacToe-v0", opponent="random")
    vs_random = agents.make("value-iteration", env, gamma=1.0).learn()
    assert vs_random.value_function[0] > 0.95
    obs, _ = env.reset(seed=0)
    outcomes = []
    for _ in range(300):
        while True:
            obs, r, terminated, _, _ = env.step(vs_random.predict(obs)[0])
            if terminated:
                outcomes.append(r)
                obs, _ = env.reset()
                break
    assert min(outcomes) >= 0.0  # the optimal policy never loses


def test_max_iterations_stops_an_unconverged_sweep():
    agent = agents.make("value-iteration", gym.make("FrozenLake-v1"), gamma=1.0, max_iterations=3).learn()
    assert agent.n_sweeps_ == 3 and not agent.converged_
    with pytest.raises(ValueError, match="theta"):
        agents.make("value-iteration", gym.make("FrozenLake-v1"), theta=0)
