"""dqn: targets, heads, acting, vector environments, persistence, bad input."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.evaluation import evaluate_policy

from groundup import agents
from groundup.agents.checkpoint import EnvRunner

@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks run fastest on one thread (and a busy machine makes spinning extra
    threads very slow); restore the count for the other tests in this process."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SMALL = dict(learning_starts=200, buffer_size=5000, batch_size=32, target_update_interval=200, net_arch=[32, 32])


class DictObs(gym.Env):
    observation_space = spaces.Dict({"x": spaces.Box(-1, 1, (2,))})
    action_space = spaces.Discrete(2)


class ImageObs(gym.Env):
    observation_space = spaces.Box(0, 255, (8, 8, 3), dtype=np.uint8)
    action_space = spaces.Discrete(2)


def test_dqn_learns_cartpole_quickly():
    env = gym.make("CartPole-v1")
    # RL Zoo's CartPole settings on a smaller network and a fifth of the budget
    agent = agents.make("dqn", env, learning_rate=2.3e-3, batch_size=64, buffer_size=10_000, learning_starts=1000,
                        target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                        exploration_final_eps=0.04, net_arch=[64, 64], seed=0)
    agent.learn(10_000)
    eval_env = gym.make("CartPole-v1")
    eval_env.reset(seed=100)
    mean, _ = evaluate_policy(agent, eval_env, n_eval_episodes=10, warn=False)
    assert np.mean(agent.episode_returns[:20]) < 30  # random play at first (~22 steps)
    assert mean > 60  # seeds 0-2 reach 97-141 here
    assert agent.n_updates == 128 * (10_000 // 256 - 3)  # every 256 steps after the first 1000


@pytest.mark.parametrize("double_q", [False, True])
def test_td_target_is_the_formula(double_q):
    agent = agents.make("dqn", gym.make("CartPole-v1"), double_q=double_q, gamma=0.9, seed=0, **SMALL)
    with torch.no_grad():  # make online and target networks differ
        for p in agent.q_net_target.parameters():
            p.add_(0.3 * torch.randn_like(p))
    S_next = torch.randn(16, 4)
    R = torch.randn(16)
    not_terminal = (torch.rand(16) > 0.3).float()
    q_target = agent.q_net_target(S_next).detach()
    if double_q:
        chosen = agent.q_net(S_next).argmax(dim=1)
        expected = R + 0.9 * not_terminal * q_target[torch.arange(16), chosen]
    else:
        expected = R + 0.9 * not_terminal * q_target.max(dim=1).values
    torch.testing.assert_close(agent.td_target(R, S_next, not_terminal), expected)


def test_dueling_head_and_numpy_acting_match_torch():
    agent = agents.make("dqn", gym.make("Acrobot-v1"), dueling=True, seed=0, net_arch=[16, 8])
    obs = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    net = agent.q_net
    x = torch.as_tensor(obs)
    h = net.trunk(x)
    a = net.advantage(h)
    expected = net.value(h) + a - a.mean(dim=1, keepdim=True)  # Q = V + A − mean A
    q = net(x)
    torch.testing.assert_close(q, expected)
    np.testing.assert_allclose(agent.q_values(obs), q.detach().numpy(), rtol=1e-6)
    np.testing.assert_array_equal(agent.predict(obs)[0], q.argmax(dim=1).numpy())


def test_exploration_schedule_and_random_warmup():
    env = gym.make("CartPole-v1")
    agent = agents.make("dqn", env, exploration_fraction=0.5, exploration_initial_eps=1.0, exploration_final_eps=0.1,
                        seed=0, **SMALL)
    seen = {}

    def record(locals_, globals_):
        seen[locals_["self"].num_timesteps] = locals_["self"].exploration_rate

    agent.learn(2000, callback=record)
    assert seen[1] == pytest.approx(1.0)
    assert seen[501] == pytest.approx(1.0 - 0.9 * 500 / 1000)
    assert seen[2000] == pytest.approx(0.1)
    # predict(deterministic=False) acts ε-greedily with the current rate
    agent.exploration_rate = 1.0
    obs = np.zeros((2000, 4), dtype=np.float32)
    actions = agent.predict(obs, deterministic=False)[0]
    assert 0.45 < actions.mean() < 0.55


def test_evaluate_policy_and_one_hot_observations(tmp_path):
    env = gym.make("FrozenLake-v1", is_slippery=False)
    agent = agents.make("dqn", env, seed=0, **SMALL).learn(500)
    mean, std = evaluate_policy(agent, env, n_eval_episodes=3, warn=False)
    assert math.isfinite(mean) and math.isfinite(std)
    np.testing.assert_array_equal(agent.encoder.encode([3])[0], np.eye(16)[3])
    assert agent.predict(np.array([0, 5]))[0].shape == (2,)
    with pytest.raises(ValueError, match=r"must lie in \[0, 16\)"):
        agent.predict(16)


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_vector_env_stores_only_real_transitions(mode):
    env = gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync",
                       vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode[mode.upper()]})
    agent = agents.make("dqn", env, seed=0, **SMALL).learn(3000)
    assert agent.num_timesteps == 3000 and agent.n_envs == 4
    buffer = agent.replay_buffer
    # CartPole pays +1 for every real step; NEXT_STEP's reset steps pay 0 and must be skipped
    assert (buffer.rewards[: buffer.size] == 1.0).all()
    terminal = buffer.terminated[: buffer.size] == 1.0
    # a terminal next state is a pole past 12 degrees or a cart past 2.4: never a reset state
    nxt = buffer.next_observations[: buffer.size][terminal]
    assert ((np.abs(nxt[:, 2]) > 0.2094) | (np.abs(nxt[:, 0]) > 2.4)).all()
    assert sum(agent.episode_lengths) <= 3000 and len(agent.episode_returns) > 20


def test_scale_observations_maps_finite_bounds_to_unit_range():
    agent = agents.make("dqn", gym.make("MountainCar-v0"), scale_observations=True, seed=0)
    corners = np.array([[-1.2, -0.07], [0.6, 0.07], [-0.3, 0.0]])
    np.testing.assert_allclose(agent.encoder.encode(corners), [[-1, -1], [1, 1], [0, 0]], atol=1e-6)
    cart = agents.make("dqn", gym.make("CartPole-v1"), scale_observations=True, seed=0)
    high = cart.observation_space.high
    x = np.array([[high[0] / 2, 3.0, high[2] / 2, -5.0]])
    np.testing.assert_allclose(cart.encoder.encode(x), [[0.5, 3.0, 0.5, -5.0]], rtol=1e-6)  # velocities unbounded


def test_env_runner_single_env_resets_with_seeds_from_the_generator():
    env = gym.make("CartPole-v1")
    agent = agents.make("dqn", env, seed=0)
    runner = EnvRunner(env, agent.encoder, np.random.default_rng(5))
    runner.reset()
    first = runner.obs.copy()
    seed = int(np.random.default_rng(5).integers(2**31, size=1)[0])
    np.testing.assert_array_equal(first[0], gym.make("CartPole-v1").reset(seed=seed)[0])


def test_save_load_carries_networks_optimizer_and_counters(tmp_path):
    env = gym.make("CartPole-v1")
    agent = agents.make("dqn", env, seed=0, double_q=True, **SMALL).learn(1500)
    path = tmp_path / "dqn.safetensors"
    agent.save(path)
    loaded = agents.load(path, env=env)
    assert loaded.num_timesteps == 1500 and loaded.n_updates == agent.n_updates > 0
    assert loaded.double_q and loaded.net_arch == [32, 32] and loaded.exploration_rate == agent.exploration_rate
    for name in ("q_net", "q_net_target"):
        for (k, v), (k2, v2) in zip(agent._modules[name].state_dict().items(), loaded._modules[name].state_dict().items()):
            assert k == k2 and torch.equal(v, v2)
    s1, s2 = agent.optimizer.state_dict(), loaded.optimizer.state_dict()
    for i in s1["state"]:
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(s1["state"][i][key], s2["state"][i][key])
    assert s1["param_groups"][0]["lr"] == s2["param_groups"][0]["lr"]
    obs = np.random.default_rng(1).normal(size=(20, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs)[0], agent.predict(obs)[0])
    loaded.learn(300)  # a loaded agent keeps training
    assert loaded.num_timesteps == 1800
    with pytest.raises(agents.SpaceMismatchError):
        agents.load(path, env=gym.make("Acrobot-v1"))


# -- bad input ----------------------------------------------------------------------------------------
def test_box_actions_are_refused():
    with pytest.raises(TypeError, match=r"dqn supports action spaces of kind Discrete; got Box"):
        agents.make("dqn", gym.make("MountainCarContinuous-v0"))


@pytest.mark.parametrize("env", [DictObs(), ImageObs()], ids=["dict", "image"])
def test_observation_spaces_the_networks_cannot_take_are_refused(env):
    with pytest.raises(TypeError, match=r"dqn supports observation spaces of kind Box, Discrete; got"):
        agents.make("dqn", env)


@pytest.mark.parametrize("net_arch, error, match", [
    ([], ValueError, "at least one hidden layer"),
    ([64, 0], ValueError, "positive integers"),
    ([-8], ValueError, "positive integers"),
    ([32.5], ValueError, "positive integers"),
    ("64", TypeError, "list of hidden layer sizes"),
])
def test_bad_architectures(net_arch, error, match):
    with pytest.raises(error, match=match):
        agents.make("dqn", gym.make("CartPole-v1"), net_arch=net_arch)


def test_replay_buffer_smaller_than_the_batch():
    with pytest.raises(ValueError, match=r"buffer_size \(16\) must be at least batch_size \(32\)"):
        agents.make("dqn", gym.make("CartPole-v1"), buffer_size=16, batch_size=32)


@pytest.mark.parametrize("kwargs, match", [
    ({"gradient_steps": 0}, "gradient_steps"), ({"tau": 0.0}, "tau"), ({"tau": 1.5}, "tau"),
    ({"learning_rate": 0}, "learning_rate"), ({"exploration_final_eps": 2}, "exploration_final_eps"),
    ({"learning_rate_schedule": "cosine"}, "learning_rate_schedule"), ({"activation": "gelu"}, "activation"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        agents.make("dqn", gym.make("CartPole-v1"), **kwargs)


def test_bad_predict_input():
    agent = agents.make("dqn", gym.make("CartPole-v1"), seed=0)
    with pytest.raises(ValueError, match=r"shape \(4,\) or \(n_envs, 4\)"):
        agent.predict(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        agent.predict(np.array([0.0, np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match="total_timesteps must be a positive integer"):
        agent.learn(0)
    with pytest.raises(ValueError, match="checkpoint_every and checkpoint_path go together"):
        agent.learn(10, checkpoint_every=5)


# -- the learning-rate schedule and soft target updates, checked exactly ---------------------------
def _filled_agent(**kwargs):
    """A DQN whose replay buffer holds 100 transitions and which has not trained yet."""
    agent = agents.make("dqn", gym.make("CartPole-v1"), seed=0, device="cpu", **{**SMALL, "learning_starts": 10_000, **kwargs})
    agent.learn(100)
    assert agent.n_updates == 0 and agent.replay_buffer.size == 100
    return agent


def _parameters(module):
    return [p.detach().clone() for p in module.parameters()]


def test_a_linear_learning_rate_schedule_scales_the_adam_step_exactly():
    import copy

    agent = _filled_agent(learning_rate=1e-3, learning_rate_schedule="linear")
    reference, constant = copy.deepcopy(agent), copy.deepcopy(agent)
    agent._run = {"start": 0, "total": 400}  # a quarter of a 400-step learn() call is spent
    agent._update_learning_rate()
    assert agent.optimizer.param_groups[0]["lr"] == 1e-3 * (1.0 - 100 / 400)
    agent.train(1)
    for group in reference.optimizer.param_groups:  # what the schedule should amount to
        group["lr"] = 0.75e-3
    reference.train(1)
    for p, q in zip(agent.q_net.parameters(), reference.q_net.parameters()):
        assert torch.equal(p, q)
    constant.train(1)  # at the full rate the same step lands elsewhere
    assert not all(torch.equal(p, q) for p, q in zip(agent.q_net.parameters(), constant.q_net.parameters()))


def test_the_linear_schedule_decays_to_zero_over_each_learn_call():
    agent = agents.make("dqn", gym.make("CartPole-v1"), seed=0, learning_rate=1e-3, learning_rate_schedule="linear",
                        train_freq=5, device="cpu", **{**SMALL, "learning_starts": 20})
    rates = {}

    def record(locals_, globals_):
        self = locals_["self"]
        rates[self.num_timesteps] = self.optimizer.param_groups[0]["lr"]

    agent.learn(200, callback=record)
    trained = list(range(35, 201, 5))  # past learning_starts, every train_freq, once a batch fits
    assert rates[30] == 1e-3  # no training yet: the rate is untouched
    assert [rates[t] for t in trained] == pytest.approx([1e-3 * (1.0 - min(1.0, t / 200)) for t in trained], rel=1e-12, abs=0)
    agent.learn(100, callback=record)  # a second call starts again from the full rate
    assert rates[205] == pytest.approx(1e-3 * (1.0 - 5 / 100), rel=1e-12)


@pytest.mark.parametrize("tau", [0.3, 1.0])
def test_the_target_network_update_is_polyak_averaging(tau):
    agent = _filled_agent(tau=tau, learning_rate=1e-2)
    agent._run = {"start": 0, "total": 100}
    agent._update_learning_rate()
    agent.train(3)  # the online network moves away from the target
    online, target = _parameters(agent.q_net), _parameters(agent.q_net_target)
    assert not all(torch.equal(p, q) for p, q in zip(online, target))
    agent._update_target()
    for new, old, theta in zip(agent.q_net_target.parameters(), target, online):
        expected = theta if tau == 1.0 else old.mul(1.0 - tau).add(theta, alpha=tau)  # θ⁻ ← τθ + (1 − τ)θ⁻
        assert torch.equal(new, expected)
    for p, theta in zip(agent.q_net.parameters(), online):
        assert torch.equal(p, theta)  # the online network is untouched


def test_sb3_defaults_give_sb3s_dqn_back():
    import inspect

    from stable_baselines3 import DQN as SB3DQN

    from groundup.agents.dqn import SB3_DEFAULTS

    env = gym.make("CartPole-v1")
    sb3_params = {k: p.default for k, p in inspect.signature(SB3DQN.__init__).parameters.items()}
    ours = agents.make("dqn", env, **SB3_DEFAULTS).get_params()
    shared = set(ours) & set(sb3_params) - {"seed", "verbose", "device", "tensorboard_log", "learning_rate"}
    assert {"buffer_size", "batch_size", "gradient_steps", "target_update_interval", "tau", "train_freq"} <= shared
    assert {k: ours[k] for k in shared} == {k: sb3_params[k] for k in shared}
    assert ours["learning_rate"] == sb3_params["learning_rate"] == 1e-4
    assert ours["net_arch"] == SB3DQN("MlpPolicy", env, buffer_size=1000).policy.net_arch == [64, 64]
    defaults = agents.make("dqn", env).get_params()  # groundup's own differ in every one of them
    assert all(defaults[k] != v for k, v in SB3_DEFAULTS.items())
