"""Semi-gradient TD(0) and SARSA with tile-coding, RBF and one-hot features."""

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.evaluation import evaluate_policy

from groundup import agents
from groundup.agents.features import ObservationScaler, RBFFeatures, TileCoder, rollout_observations
from groundup.persistence import ModelFileError


# -- features -----------------------------------------------------------------------------------
def test_tile_coder_activates_one_tile_per_tiling_with_the_books_offsets():
    scaler = ObservationScaler(np.array([-1.2, -0.07]), np.array([0.6, 0.07]))
    coder = TileCoder(scaler, n_tilings=8, tiles_per_dim=8)
    assert coder.n_features == 8 * 9 * 9
    rng = np.random.default_rng(0)
    for obs in rng.uniform([-1.2, -0.07], [0.6, 0.07], size=(200, 2)):
        x = coder(obs)
        assert x.shape == (8,) and len(set(x.tolist())) == 8
        assert ((x // 81) == np.arange(8)).all()  # one tile in each tiling's block
        assert ((x >= 0) & (x < coder.n_features)).all()
    # offsets: tiling k is shifted by k/8 of a tile times (1, 3) (asymmetric displacement)
    np.testing.assert_allclose(coder._offsets[1], [1 / 8, 3 / 8])
    np.testing.assert_allclose(coder._offsets[3], [3 / 8, (9 / 8) % 1])
    # generalisation: a tiny move shares most tiles, a far move shares none
    a = coder(np.array([-0.5, 0.0]))
    assert len(set(a) & set(coder(np.array([-0.5 + 1e-3, 0.0])))) >= 7
    assert not set(a) & set(coder(np.array([0.5, 0.06])))


def test_rbf_features_equal_gaussians_of_the_distance_to_each_centre():
    scaler = ObservationScaler(np.zeros(3), np.full(3, 2.0))
    rbf = RBFFeatures(scaler, rbf_per_dim=4, width=0.8)
    obs = np.array([0.3, 1.7, 1.1])
    s = obs / 2.0
    expected = np.exp(-((rbf.centres - s) ** 2).sum(axis=1) / (2 * rbf.sigma**2))
    x = rbf(obs)
    assert x.shape == (4**3 + 1,) and x[-1] == 1.0  # plus the bias feature
    np.testing.assert_allclose(x[:-1], expected, rtol=1e-12)
    assert rbf.sigma == pytest.approx(0.8 / 3)


def test_scaler_uses_space_bounds_where_finite_and_samples_elsewhere():
    env = gym.make("CartPole-v1")
    samples = rollout_observations(env, 2000, np.random.default_rng(0))
    scaler = ObservationScaler.fit(env.observation_space, samples)
    high = env.observation_space.high
    assert scaler.low[0] == -high[0] and scaler.high[2] == high[2]  # finite: the space's own bounds
    assert 0 < scaler.high[1] < 10 and 0 < scaler.high[3] < 10  # velocities: from the random-policy samples
    assert ((scaler(samples) >= 0) & (scaler(samples) <= 1)).all()
    with pytest.raises(ValueError, match="unbounded dimensions"):
        ObservationScaler.fit(env.observation_space, None)


# -- semi-gradient TD(0) ------------------------------------------------------------------------------
def _exact_values(env, policy, gamma):
    P = env.unwrapped.P
    n = len(P)
    A, b = np.eye(n), np.zeros(n)
    for s in range(n):
        for a, pa in enumerate(policy[s]):
            for prob, s2, r, done in P[s][a]:
                b[s] += pa * prob * r
                if not done:
                    A[s, s2] -= gamma * pa * prob
    return np.linalg.solve(A, b)


def test_td0_with_one_hot_features_converges_to_v_pi():
    env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=False)
    policy = np.full((16, 4), 0.25)
    agent = agents.make("semi-gradient-td0", env, policy=policy, learning_rate=0.02, gamma=0.9, seed=0)
    assert agent.features == "one-hot"
    agent.learn(total_timesteps=60_000)
    v_pi = _exact_values(env, policy, 0.9)
    visited = [0, 1, 2, 4, 6, 8, 9, 10, 13, 14]  # non-terminal states
    np.testing.assert_allclose(agent.value(np.array(visited)), v_pi[visited], atol=0.03)


def test_td0_single_update_is_the_books_line():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    agent = agents.make("semi-gradient-td0", env, policy=np.full((16, 4), 0.25), learning_rate=0.5, gamma=0.9, seed=0)
    agent.featurizer  # fit
    agent.w[0, :] = np.arange(16) / 10
    x, x_next = np.array([3]), np.array([7])
    agent.update((3, x), 0, 1.0, (7, x_next), terminated=False)  # S = (observation, x)
    # w += α (R + γ v̂(S') − v̂(S)) ∇v̂(S) = 0.3 + 0.5 (1 + 0.9·0.7 − 0.3)
    assert agent.w[0, 3] == pytest.approx(0.3 + 0.5 * (1 + 0.9 * 0.7 - 0.3))
    agent.update((5, np.array([5])), 0, 2.0, (6, np.array([6])), terminated=True)
    assert agent.w[0, 5] == pytest.approx(0.5 + 0.5 * (2.0 - 0.5))  # no bootstrap past a terminal state


def test_td0_on_mountain_car_matches_monte_carlo_returns_of_the_policy():
    env = gym.make("MountainCar-v0")

    def pump(obs):  # push in the direction of motion: reaches the goal in ~100-160 steps
        return 2 if obs[1] >= 0 else 0

    agent = agents.make("semi-gradient-td0", env, policy=pump, features="tile-coding", learning_rate=0.1 / 8, seed=0)
    agent.learn(n_episodes=300)
    lengths = np.array(agent.episode_lengths[-100:])
    assert (lengths < 200).all()
    starts = np.column_stack([np.random.default_rng(1).uniform(-0.6, -0.4, 50), np.zeros(50)])
    # γ = 1: v_π(start) = −(steps to the goal); compare with the observed mean ± a wide margin
    assert abs(agent.value(starts).mean() + lengths.mean()) < 15


def test_td0_needs_a_policy_and_keeps_a_table_policy_when_saved(tmp_path):
    env = gym.make("MountainCar-v0")
    with pytest.raises(TypeError, match="another agent or a callable"):
        agents.make("semi-gradient-td0", env)
    agent = agents.make("semi-gradient-td0", env, policy=lambda obs: 2, seed=0).learn(total_timesteps=300)
    agent.save(tmp_path / "td0.safetensors")
    with pytest.raises(ModelFileError, match="pass policy= to agents.load"):
        agents.load(tmp_path / "td0.safetensors", env=env)
    loaded = agents.load(tmp_path / "td0.safetensors", env=env, policy=lambda obs: 2)
    obs = np.array([[-0.5, 0.0], [-1.0, 0.05]])
    np.testing.assert_array_equal(loaded.value(obs), agent.value(obs))
    lake = gym.make("FrozenLake-v1")
    table = np.tile([0.1, 0.2, 0.3, 0.4], (16, 1))
    tab = agents.make("semi-gradient-td0", lake, policy=table, seed=0).learn(total_timesteps=500)
    tab.save(tmp_path / "tab.safetensors")
    np.testing.assert_allclose(agents.load(tmp_path / "tab.safetensors").policy, table)


# -- semi-gradient SARSA ----------------------------------------------------------------------------
def test_sarsa_with_tile_coding_learns_mountain_car():
    env = gym.make("MountainCar-v0")
    agent = agents.make("semi-gradient-sarsa", env, epsilon=0.0, seed=0)
    agent.featurizer  # fit the features
    assert agent.features == "tile-coding" and agent.alpha_ == 0.5 / 8  # the book's best step size
    agent.learn(n_episodes=150)
    assert np.mean(agent.episode_returns[:10]) < -190  # the first episodes time out
    eval_env = gym.make("MountainCar-v0")
    eval_env.reset(seed=123)
    mean, _ = evaluate_policy(agent, eval_env, n_eval_episodes=20, warn=False)
    assert mean > -160


def test_sarsa_with_rbf_features_balances_cartpole():
    env = gym.make("CartPole-v1")
    agent = agents.make("semi-gradient-sarsa", env, features="rbf", rbf_per_dim=7, gamma=0.99, seed=0)
    agent.learn(n_episodes=120)
    assert np.mean(agent.episode_returns[-20:]) > 150  # random play lasts ~22 steps


@pytest.mark.parametrize("target", ["sarsa", "q-learning", "expected-sarsa"])
def test_sarsa_targets_follow_their_formulas(target):
    env = gym.make("FrozenLake-v1")
    agent = agents.make("semi-gradient-sarsa", env, target=target, epsilon=0.2, learning_rate=0.5, gamma=0.9, seed=0)
    agent.featurizer
    agent.w[:] = np.random.default_rng(0).random((4, 16))  # w[a, s] = q̂(s, a): no ties
    w = agent.w.copy()
    state = agent._rng.getstate()
    A_next = agent.update((2, np.array([2])), 1, 0.5, (6, np.array([6])), terminated=False)
    q_next = w[:, 6]
    if target == "sarsa":
        agent._rng.setstate(state)
        assert A_next == agent.behaviour(q_next)
        bootstrap = q_next[A_next]
    elif target == "q-learning":
        bootstrap = q_next.max()
    else:
        pi = np.full(4, 0.2 / 4)
        pi[q_next.argmax()] += 0.8
        bootstrap = pi @ q_next
    assert agent.w[1, 2] == pytest.approx(w[1, 2] + 0.5 * (0.5 + 0.9 * bootstrap - w[1, 2]))
    changed = np.argwhere(agent.w != w)
    assert changed.tolist() == [[1, 2]]  # only q̂(S, A)'s weight moves


def test_sarsa_save_load_round_trip_and_batched_predict(tmp_path):
    env = gym.make("CartPole-v1")
    agent = agents.make("semi-gradient-sarsa", env, features="rbf", gamma=0.99, seed=1).learn(total_timesteps=2000)
    agent.save(tmp_path / "sarsa.safetensors")
    loaded = agents.load(tmp_path / "sarsa.safetensors")  # no env: the scaler comes from the file
    obs = np.random.default_rng(0).normal(0, 0.1, size=(32, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.q_values(obs), agent.q_values(obs))
    actions, state = loaded.predict(obs)
    assert state is None and actions.shape == (32,)
    np.testing.assert_array_equal(actions, agent.predict(obs)[0])
    assert loaded.predict(obs[0])[0] == actions[0]
    assert loaded.num_timesteps == 2000 and loaded.episode_returns == agent.episode_returns


def test_same_seed_same_run():
    runs = []
    for _ in range(2):
        env = gym.make("MountainCar-v0")
        runs.append(agents.make("semi-gradient-sarsa", env, seed=7, epsilon=0.1).learn(total_timesteps=3000))
    np.testing.assert_array_equal(runs[0].w, runs[1].w)
    assert runs[0].episode_returns == runs[1].episode_returns


@pytest.mark.parametrize("kwargs, error, match", [
    ({"features": "fourier"}, ValueError, "features must be one of"),
    ({"features": "one-hot"}, ValueError, "needs a Discrete observation space"),
    ({"target": "double"}, ValueError, "target must be one of"),
    ({"n_tilings": 0}, ValueError, "n_tilings must be"),
    ({"learning_rate": -0.1}, ValueError, "learning_rate"),
    ({"rbf_width": float("nan")}, ValueError, "rbf_width"),
])
def test_bad_hyperparameters_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        agents.make("semi-gradient-sarsa", gym.make("MountainCar-v0"), **kwargs)


def test_bad_spaces_and_observations():
    with pytest.raises(TypeError, match="semi-gradient-sarsa supports action spaces of kind Discrete"):
        agents.make("semi-gradient-sarsa", gym.make("MountainCarContinuous-v0"))
    with pytest.raises(ValueError, match="needs a Box observation space"):
        agents.make("semi-gradient-sarsa", gym.make("FrozenLake-v1"), features="rbf")
    agent = agents.make("semi-gradient-sarsa", gym.make("MountainCar-v0"), seed=0)
    with pytest.raises(ValueError, match=r"shape \(2,\) or \(n, 2\)"):
        agent.predict(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        agent.predict(np.array([math.nan, 0.0]))
    assert isinstance(agent.observation_space, spaces.Box)


# -- visit-count step sizes of semi-gradient TD(0) (issue 15) ---------------------------------------------------
def test_td0_one_hot_steps_are_one_over_the_visits_to_the_0_7_as_in_the_table():
    env = gym.make("FrozenLake-v1")
    uniform = np.full((16, 4), 0.25)
    linear = agents.make("semi-gradient-td0", env, policy=uniform, gamma=0.9, seed=0)
    table = agents.make("td0-prediction", env, policy=uniform, gamma=0.9, seed=0)
    assert linear.learning_rate is None and linear.learning_rate_exponent == 0.7
    linear.featurizer  # fit
    values = []
    for R in (1.0, 0.0, 0.0):
        linear.update((3, np.array([3])), 0, R, (7, np.array([7])), terminated=True)
        table.update(3, 0, R, 7, terminated=True)
        values.append(linear.w[0, 3])
    assert values == pytest.approx([1.0, 1 - 2**-0.7, (1 - 2**-0.7) * (1 - 3**-0.7)], abs=1e-15)
    assert linear.feature_visits_[3] == 3 and linear.w[0, 3] == table.V[3]


def test_td0_tile_coding_first_visit_reaches_the_target_and_counts_each_tile(tmp_path):
    env = gym.make("MountainCar-v0")
    agent = agents.make("semi-gradient-td0", env, policy=lambda obs: 2, features="tile-coding", seed=0)
    f = agent.featurizer
    s, s_next = np.array([-0.5, 0.0]), np.array([-0.49, 0.001])
    x, x_next = f(s), f(s_next)
    agent.update((s, x), 2, -1.0, (s_next, x_next), terminated=True)
    assert agent.value(s) == pytest.approx(-1.0, abs=1e-12)  # k = 8 active tiles, each moved by δ / 8
    assert agent.feature_visits_.sum() == 8 and (agent.feature_visits_[x] == 1).all()
    agent.update((s, x), 2, 0.0, (s_next, x_next), terminated=True)
    assert agent.value(s) == pytest.approx(-1.0 + 2**-0.7, abs=1e-12)  # every tile's second visit: δ 2^-0.7 in all
    agent.save(tmp_path / "tiles.safetensors")
    loaded = agents.load(tmp_path / "tiles.safetensors", env=env, policy=lambda obs: 2)
    np.testing.assert_array_equal(loaded.feature_visits_, agent.feature_visits_)
    rbf = agents.make("semi-gradient-td0", env, policy=lambda obs: 2, features="rbf", seed=0)
    rbf.featurizer
    assert rbf.feature_visits_ is None and rbf.alpha_ == rbf._default_alpha()  # no per-state count on dense features


def test_td0_bad_step_sizes_are_named():
    env = gym.make("FrozenLake-v1")
    with pytest.raises(ValueError, match=r"learning_rate must be a positive finite number or None \(visit-count steps "
                                         r"1/n\^learning_rate_exponent.*\); got 0"):
        agents.make("semi-gradient-td0", env, policy=np.full((16, 4), 0.25), learning_rate=0)
    with pytest.raises(ValueError, match=r"learning_rate_exponent must be a number in \(0.5, 1\]; got 1.01"):
        agents.make("semi-gradient-td0", env, policy=np.full((16, 4), 0.25), learning_rate_exponent=1.01)


def test_tilings_too_large_for_a_table_are_hashed_and_a_saved_agent_keeps_its_tiles(tmp_path):
    """8 tilings of 9^8 tiles (LunarLander's 8 dimensions) would need 344M weights per
    action: the tiles are hashed into 2^20, one active weight per tiling, the same tiles on
    every instance, so a loaded agent acts as the saved one."""
    env = gym.make("LunarLander-v3")
    agent = agents.make("semi-gradient-sarsa", env, seed=0)
    coder = agent.featurizer
    assert coder.hashed and coder.n_features == 1 << 20 and agent.w.shape == (4, 1 << 20)
    observations = np.random.default_rng(0).uniform(-1, 1, size=(50, 8)).astype(np.float32)
    for obs in observations:
        x = coder(obs)
        assert x.shape == (8,) and x.min() >= 0 and x.max() < 1 << 20
    small = agents.make("semi-gradient-sarsa", gym.make("MountainCar-v0"), seed=0).featurizer
    assert not small.hashed and small.n_features == 8 * 9**2  # tables that fit stay exact
    agent.learn(3000)
    agent.save(tmp_path / "lander.safetensors")
    loaded = agents.load(tmp_path / "lander.safetensors", env=env)
    for obs in observations:
        np.testing.assert_array_equal(loaded.featurizer(obs), coder(obs))
    np.testing.assert_array_equal(loaded.predict(observations)[0], agent.predict(observations)[0])
