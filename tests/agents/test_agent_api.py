"""The API every tabular agent shares: learn, predict, callbacks, save/load, errors."""

import math

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy

import groundup  # noqa: F401
from groundup import agents
from groundup.persistence import ModelFileError

UNIFORM16 = np.full((16, 4), 0.25)

# one small configuration per agent: (id, env id, env kwargs, agent kwargs, learn kwargs)
CASES = [
    ("epsilon-greedy", "groundup/Bandit-v0", {}, {}, {"total_timesteps": 500}),
    ("optimistic-initial-values", "groundup/Bandit-v0", {}, {}, {"total_timesteps": 500}),
    ("ucb1", "groundup/Bandit-v0", {}, {}, {"total_timesteps": 500}),
    ("thompson-sampling", "groundup/Bandit-v0", {}, {}, {"total_timesteps": 500}),
    ("policy-evaluation", "FrozenLake-v1", {}, {"policy": UNIFORM16}, {}),
    ("policy-iteration", "FrozenLake-v1", {}, {}, {}),
    ("value-iteration", "FrozenLake-v1", {}, {}, {}),
    ("mc-prediction", "FrozenLake-v1", {}, {"policy": UNIFORM16}, {"total_timesteps": 2000}),
    ("mc-exploring-starts", "groundup/GridWorld-v0", {}, {}, {"total_timesteps": 2000}),
    ("mc-control", "FrozenLake-v1", {}, {}, {"total_timesteps": 2000}),
    ("td0-prediction", "FrozenLake-v1", {}, {"policy": UNIFORM16}, {"total_timesteps": 2000}),
    ("sarsa", "FrozenLake-v1", {}, {}, {"total_timesteps": 2000}),
    ("q-learning", "FrozenLake-v1", {}, {}, {"total_timesteps": 2000}),
]


def _build(case, seed=0):
    agent_id, env_id, env_kwargs, agent_kwargs, learn_kwargs = case
    env = gym.make(env_id, **env_kwargs)
    return agents.make(agent_id, env, seed=seed, **agent_kwargs), env, learn_kwargs


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_learn_returns_self_and_same_seed_same_result(case):
    a, _, learn_kwargs = _build(case)
    assert a.learn(**learn_kwargs) is a
    b, _, _ = _build(case)
    b.learn(**learn_kwargs)
    for name, arr in a._get_state()[0].items():
        np.testing.assert_array_equal(arr, b._get_state()[0][name], err_msg=name)
    assert a.episode_returns == b.episode_returns
    if "total_timesteps" in learn_kwargs:
        assert a.num_timesteps == learn_kwargs["total_timesteps"]
        assert len(a.episode_returns) == len(a.episode_lengths) == a.num_episodes


# deterministic tasks on which every control agent's greedy policy reaches the optimum in
# 20,000 steps (seed 0); a random policy succeeds 1.5% of the time on the lake and averages
# about -0.3 on the grid world
EVAL_TASKS = {
    "q-learning": ("FrozenLake-v1", {"is_slippery": False}),
    "sarsa": ("FrozenLake-v1", {"is_slippery": False}),
    "mc-control": ("FrozenLake-v1", {"is_slippery": False}),
    "mc-exploring-starts": ("groundup/GridWorld-v0", {}),
}


@pytest.mark.parametrize("agent_id", sorted(EVAL_TASKS))
def test_sb3_evaluate_policy_reaches_the_dynamic_programming_optimum(agent_id):
    env_id, env_kwargs = EVAL_TASKS[agent_id]
    env = gym.make(env_id, **env_kwargs)
    optimum, _ = evaluate_policy(agents.make("value-iteration", env).learn(), env, n_eval_episodes=20, warn=False)
    agent = agents.make(agent_id, env, seed=0).learn(20_000)
    mean, std = evaluate_policy(agent, env, n_eval_episodes=20, warn=False)
    assert math.isfinite(std)
    assert mean == pytest.approx(optimum, abs=0.05), (agent_id, mean, optimum)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_save_load_round_trip(case, tmp_path):
    agent, env, learn_kwargs = _build(case)
    agent.learn(**learn_kwargs)
    path = tmp_path / "agent.safetensors"
    agent.save(path)
    loaded = agents.load(path, env=env)
    assert type(loaded) is type(agent) and loaded.agent_id == agent.agent_id
    assert loaded.get_params().keys() == agent.get_params().keys()
    for name, arr in agent._get_state()[0].items():
        np.testing.assert_array_equal(loaded._get_state()[0][name], arr, err_msg=name)
    assert loaded.num_timesteps == agent.num_timesteps and loaded.episode_returns == agent.episode_returns
    obs = np.zeros(5, dtype=np.int64)
    np.testing.assert_array_equal(loaded.predict(obs)[0], agent.predict(obs)[0])
    no_env = agents.load(path)  # predicting needs no environment
    np.testing.assert_array_equal(no_env.predict(obs)[0], agent.predict(obs)[0])


def test_predict_single_and_batched_observations():
    agent = agents.make("q-learning", gym.make("FrozenLake-v1"), seed=0).learn(20_000)
    single, state = agent.predict(0)
    assert state is None and np.ndim(single) == 0
    batch, _ = agent.predict(np.arange(16))
    assert batch.shape == (16,) and batch[0] == single
    np.testing.assert_array_equal(batch, agent.q_table.argmax(axis=1))
    with pytest.raises(ValueError, match="observation must be in"):
        agent.predict(16)


def test_tuple_observations_are_flattened():
    env = gym.make("Blackjack-v1")
    agent = agents.make("mc-control", env, seed=0).learn(50_000)
    assert agent.q_table.shape == (32 * 11 * 2, 2)
    # the learned policy, not any policy: stick on 20, hit on 11 (against a dealer's 10)
    assert agent.predict((20, 10, 0))[0] == 0 and agent.predict((11, 10, 0))[0] == 1
    batch, _ = agent.predict((np.array([20, 11]), np.array([10, 10]), np.array([0, 0])))
    np.testing.assert_array_equal(batch, [0, 1])
    env.reset(seed=123)
    mean, _ = evaluate_policy(agent, env, n_eval_episodes=2000, warn=False)
    assert mean > -0.2  # a random policy averages about -0.4 (standard error here about 0.02)


def test_a_callback_returning_false_stops_learning():
    seen = []

    def stop_at_100(locals_, globals_):
        seen.append(locals_["t"])
        return locals_["t"] < 100

    agent = agents.make("sarsa", gym.make("FrozenLake-v1"), seed=0).learn(10_000, callback=stop_at_100)
    assert agent.num_timesteps == 100 and seen[-1] == 100
    sweeps = []
    agents.make("value-iteration", gym.make("FrozenLake-v1")).learn(
        callback=lambda l, g: sweeps.append(l["delta"]) or len(sweeps) < 3)
    assert len(sweeps) == 3
    with pytest.raises(TypeError, match="callback"):
        agents.make("sarsa", gym.make("FrozenLake-v1")).learn(10, callback=42)


def test_progress_bar_writes_to_stderr(capsys):
    agents.make("q-learning", gym.make("FrozenLake-v1"), seed=0).learn(5000, progress_bar=True)
    err = capsys.readouterr().err
    assert "q-learning" in err and "5000" in err


def test_episode_budget():
    agent = agents.make("q-learning", gym.make("CliffWalking-v1"), seed=0).learn(n_episodes=7)
    assert agent.num_episodes == 7 == len(agent.episode_returns)
    assert agent.num_timesteps == sum(agent.episode_lengths)


# -- bad input -----------------------------------------------------------------------------
def test_box_observations_are_refused_with_the_supported_kinds():
    with pytest.raises(TypeError) as info:
        agents.make("q-learning", gym.make("CartPole-v1"))
    msg = str(info.value)
    assert "q-learning" in msg and "Box(" in msg and "Discrete" in msg and "Tuple[Discrete]" in msg


def test_bandits_need_a_single_state():
    with pytest.raises(TypeError, match="Discrete\\(1\\)"):
        agents.make("ucb1", gym.make("FrozenLake-v1"))


def test_dynamic_programming_needs_a_model():
    env = gym.make("groundup/Bandit-v0")  # Gaussian arms: no finite model
    with pytest.raises(TypeError, match="env.unwrapped.P"):
        agents.make("value-iteration", env)
    with pytest.raises(TypeError, match="env.unwrapped.P"):
        agents.make("policy-evaluation", env, policy=np.full((1, 10), 0.1))


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100"])
def test_total_timesteps_must_be_positive(bad):
    agent = agents.make("q-learning", gym.make("FrozenLake-v1"))
    with pytest.raises(ValueError, match="total_timesteps must be a positive integer"):
        agent.learn(bad)


def test_learn_needs_a_budget():
    with pytest.raises(ValueError, match="needs a budget"):
        agents.make("q-learning", gym.make("FrozenLake-v1")).learn()


@pytest.mark.parametrize("agent_id", ["q-learning", "mc-control", "semi-gradient-sarsa"])
def test_a_budget_of_zero_steps_and_zero_episodes_is_refused(agent_id):
    env = gym.make("MountainCar-v0" if agent_id == "semi-gradient-sarsa" else "FrozenLake-v1")
    with pytest.raises(ValueError, match=r"total_timesteps=0 and n_episodes=0: nothing to train"):
        agents.make(agent_id, env).learn(total_timesteps=0, n_episodes=0)


@pytest.mark.parametrize("agent_id", ["dqn", "policy-gradient"])
def test_a_vector_environment_of_mixed_spaces_is_refused(agent_id):
    # gymnasium builds it when asked (observation_mode="different"): Discrete(16) and Discrete(64)
    env = gym.vector.SyncVectorEnv([lambda: gym.make("FrozenLake-v1"), lambda: gym.make("FrozenLake-v1", map_name="8x8")],
                                   observation_mode="different")
    with pytest.raises(ValueError, match=r"2 sub-environments share one observation space; this one's observation_space "
                                         r"is MultiDiscrete\(\[16 64\]\), not 2 copies of single_observation_space Discrete\(16\)"):
        agents.make(agent_id, env)


@pytest.mark.parametrize("gamma", [-0.1, 1.01, float("nan"), "0.9"])
def test_gamma_outside_unit_interval(gamma):
    with pytest.raises(ValueError, match=r"gamma \(the discount factor\) must be a number in \[0, 1\]"):
        agents.make("sarsa", gym.make("FrozenLake-v1"), gamma=gamma)


@pytest.mark.parametrize("lr", [-0.1, 0.0, float("nan"), float("inf")])
def test_learning_rate_must_be_positive_and_finite(lr):
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
        agents.make("q-learning", gym.make("FrozenLake-v1"), learning_rate=lr)
    with pytest.raises(ValueError, match="learning_rate must be"):
        agents.make("epsilon-greedy", gym.make("groundup/Bandit-v0"), learning_rate=lr)


def test_epsilon_must_be_a_probability():
    with pytest.raises(ValueError, match="epsilon must be a probability"):
        agents.make("sarsa", gym.make("FrozenLake-v1"), epsilon=1.5)


def test_policy_arrays_must_fit():
    env = gym.make("FrozenLake-v1")
    with pytest.raises(ValueError, match=r"shape \(n_states, n_actions\) = \(16, 4\).*got shape \(4, 4\)"):
        agents.make("policy-evaluation", env, policy=np.full((4, 4), 0.25))
    with pytest.raises(ValueError, match="row 3 sums to 2"):
        bad = UNIFORM16.copy()
        bad[3] = 0.5
        agents.make("td0-prediction", env, policy=bad)
    with pytest.raises(TypeError, match="evaluates a policy"):
        agents.make("mc-prediction", env)


def test_exploring_starts_say_when_the_environment_cannot_start_anywhere():
    with pytest.raises(TypeError, match="FrozenLake-v1 ignores.*mc-control"):
        agents.make("mc-exploring-starts", gym.make("FrozenLake-v1"))


def test_loading_rejects_truncated_tampered_and_pickled_files(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = agents.make("q-learning", env, seed=0).learn(1000)
    path = tmp_path / "q.safetensors"
    agent.save(path)
    data = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="trunc.safetensors"):
        agents.load(tmp_path / "trunc.safetensors", env=env)
    tampered = bytearray(data)
    tampered[-5] ^= 0x01
    (tmp_path / "tampered.safetensors").write_bytes(bytes(tampered))
    with pytest.raises(ModelFileError, match="checksum"):
        agents.load(tmp_path / "tampered.safetensors", env=env)
    import pickle

    (tmp_path / "pickled.safetensors").write_bytes(pickle.dumps({"q_table": agent.q_table}))
    with pytest.raises(ModelFileError, match="pickle"):
        agents.load(tmp_path / "pickled.safetensors")


def test_loading_for_an_environment_with_other_spaces(tmp_path):
    agent = agents.make("q-learning", gym.make("FrozenLake-v1"), seed=0).learn(1000)
    path = tmp_path / "q.safetensors"
    agent.save(path)
    with pytest.raises(agents.SpaceMismatchError, match=r"Discrete\(16\).*Discrete\(48\)"):
        agents.load(path, env=gym.make("CliffWalking-v1"))
    loaded = agents.load(path)
    with pytest.raises(RuntimeError, match="loaded without one"):
        loaded.learn(10)
    with pytest.raises(agents.SpaceMismatchError):
        loaded.set_env(gym.make("FrozenLake8x8-v1"))
    loaded.set_env(gym.make("FrozenLake-v1"))
    loaded.learn(10)


def test_a_file_naming_an_unregistered_agent(tmp_path):
    from groundup import persistence

    persistence.save(tmp_path / "x.safetensors", {}, {"class": "os.system"})
    with pytest.raises(ModelFileError, match="not a registered agent id"):
        agents.load(tmp_path / "x.safetensors")
