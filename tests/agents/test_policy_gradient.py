"""policy-gradient: REINFORCE with baseline and actor-critic, discrete and Gaussian actions."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.evaluation import evaluate_policy

from groundup import agents


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks run fastest on one thread; restore the count afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class DictObs(gym.Env):
    observation_space = spaces.Dict({"x": spaces.Box(-1, 1, (2,))})
    action_space = spaces.Discrete(2)


def _eval(agent, env_id, n=10):
    env = gym.make(env_id)
    env.reset(seed=100)
    return evaluate_policy(agent, env, n_eval_episodes=n, warn=False)[0]


def test_reinforce_with_baseline_learns_cartpole():
    agent = agents.make("policy-gradient", gym.make("CartPole-v1"), mode="reinforce", learning_rate=1e-3,
                        normalize_advantage=True, seed=0)
    agent.learn(30_000)
    assert agent.n_updates == agent.num_episodes  # one update per episode
    assert np.mean(agent.episode_returns[:20]) < 40
    assert np.mean(agent.episode_returns[-20:]) > 100


def test_actor_critic_with_a_vector_env_learns_cartpole():
    env = gym.make_vec("CartPole-v1", num_envs=8, vectorization_mode="sync")
    agent = agents.make("policy-gradient", env, n_steps=16, learning_rate=1e-3, normalize_advantage=True, seed=0)
    agent.learn(40_000)
    assert agent.n_updates == 40_000 // (8 * 16)
    assert _eval(agent, "CartPole-v1") > 150


def test_log_probabilities_and_entropies_match_torch_distributions():
    cat = agents.make("policy-gradient", gym.make("Acrobot-v1"), seed=0)
    obs = torch.randn(20, 6)
    actions = torch.randint(0, 3, (20,)).float()
    logp, ent = cat.actor.log_prob_entropy(obs, actions)
    dist = torch.distributions.Categorical(logits=cat.actor.head(cat.actor.trunk(obs)))
    torch.testing.assert_close(logp, dist.log_prob(actions.long()))
    torch.testing.assert_close(ent, dist.entropy())

    gauss = agents.make("policy-gradient", gym.make("Pendulum-v1"), log_std_init=-0.5, seed=0)
    obs = torch.randn(20, 3)
    actions = torch.randn(20, 1)
    logp, ent = gauss.actor.log_prob_entropy(obs, actions)
    normal = torch.distributions.Normal(gauss.actor.head(gauss.actor.trunk(obs)), math.exp(-0.5))
    torch.testing.assert_close(logp, normal.log_prob(actions).sum(-1))
    torch.testing.assert_close(ent, normal.entropy().sum(-1))


def test_gsde_noise_has_the_variance_its_log_probability_assumes():
    agent = agents.make("policy-gradient", gym.make("MountainCarContinuous-v0"), use_sde=True, log_std_init=-1.0,
                        net_arch=[8], seed=0)
    obs = np.array([[-0.5, 0.01]], dtype=np.float32)
    mean = agent._act(obs, deterministic=True)[0, 0]
    samples = []
    for _ in range(4000):  # a fresh ε each time: φ(s)ᵀε ~ N(0, Σ_i φ_i² σ_i²)
        agent._sample_exploration(1)
        samples.append(agent._act(obs, deterministic=False)[0, 0])
    phi = agent.actor.trunk(torch.as_tensor(obs)).detach()
    std = torch.sqrt((phi**2) @ torch.exp(2 * agent.actor.log_std.detach()) + 1e-6).item()
    assert abs(np.mean(samples) - mean) < 4 * std / math.sqrt(4000)
    assert np.std(samples) == pytest.approx(std, rel=0.06)
    # with ε fixed, the noise is a deterministic function of the state (consistent exploration)
    agent._sample_exploration(1)
    assert agent._act(obs, deterministic=False)[0, 0] == agent._act(obs, deterministic=False)[0, 0]


def test_categorical_sampling_follows_the_softmax():
    agent = agents.make("policy-gradient", gym.make("Acrobot-v1"), seed=0, ortho_init=False)
    obs = np.tile(np.array([[0.3, -0.2, 0.9, 0.1, 1.0, -2.0]], dtype=np.float32), (30_000, 1))
    counts = np.bincount(agent._act(obs, deterministic=False), minlength=3) / 30_000
    with torch.no_grad():
        p = torch.softmax(agent.actor.head(agent.actor.trunk(torch.as_tensor(obs[:1]))), -1)[0].numpy()
    np.testing.assert_allclose(counts, p, atol=4 * math.sqrt(0.25 / 30_000))


def test_gae_reduces_to_n_step_returns_and_td_errors():
    agent = agents.make("policy-gradient", gym.make("CartPole-v1"), gamma=0.9, seed=0)
    rng = np.random.default_rng(0)
    T, n = 6, 2
    r, v, v_next = rng.normal(size=(T, n)), rng.normal(size=(T, n)), rng.normal(size=(T, n))
    v_next[:-1] = v[1:]  # within an episode v̂(S_{t+1}) is the next step's v̂(S_t)
    terminated = np.zeros((T, n))
    done = np.zeros((T, n))
    terminated[2, 0] = done[2, 0] = 1.0  # env 0: an episode ends at t = 2
    done[4, 1] = 1.0  # env 1: truncated at t = 4 (bootstraps from v̂ of its last state)
    agent.gae_lambda = 1.0
    adv = agent._advantages(r, v, v_next, terminated, done)
    # λ = 1: Â_t = Σ_k γ^k R_{t+k+1} (+ γ^n v̂ at the cut) − v̂(S_t), computed by hand
    expected_0 = r[0, 0] + 0.9 * r[1, 0] + 0.81 * r[2, 0] - v[0, 0]
    assert adv[0, 0] == pytest.approx(expected_0)
    expected_1 = r[3, 1] + 0.9 * (r[4, 1] + 0.9 * v_next[4, 1]) - v[3, 1]
    assert adv[3, 1] == pytest.approx(expected_1)
    assert adv[5, 0] == pytest.approx(r[5, 0] + 0.9 * v_next[5, 0] - v[5, 0])  # bootstrapped from the rollout's end
    agent.gae_lambda = 0.0
    delta = r + 0.9 * (1 - terminated) * v_next - v
    np.testing.assert_allclose(agent._advantages(r, v, v_next, terminated, done), delta)


def test_gaussian_predict_is_the_clipped_mean_and_evaluate_policy_works(tmp_path):
    env = gym.make("MountainCarContinuous-v0")
    agent = agents.make("policy-gradient", env, use_sde=True, normalize_observations=True, seed=0).learn(2000)
    obs = np.array([[-0.5, 0.0], [0.3, 0.05]], dtype=np.float32)
    actions, _ = agent.predict(obs)
    assert actions.shape == (2, 1) and (np.abs(actions) <= 1).all()
    assert agent.predict(obs[0])[0].shape == (1,)
    assert math.isfinite(_eval(agent, "MountainCarContinuous-v0", n=2))
    agent.save(tmp_path / "pg.safetensors")
    loaded = agents.load(tmp_path / "pg.safetensors")
    np.testing.assert_array_equal(loaded.obs_rms.mean, agent.obs_rms.mean)  # normalisation statistics kept
    assert loaded.obs_rms.count == agent.obs_rms.count > 1000
    np.testing.assert_array_equal(loaded.predict(obs)[0], actions)


def test_observation_statistics_survive_every_env_resetting_at_once():
    # Acrobot's random episodes all run into the 500-step limit together: a step with no valid obs
    env = gym.make_vec("Acrobot-v1", num_envs=2, vectorization_mode="sync")
    agent = agents.make("policy-gradient", env, normalize_observations=True, n_steps=50, seed=0).learn(1100)
    assert np.isfinite(agent.obs_rms.mean).all() and np.isfinite(agent.obs_rms.var).all()
    assert agent.obs_rms.count == pytest.approx(1100 - 2, abs=1e-3)  # the two reset steps are skipped


def test_rewards_are_scaled_by_the_running_std_of_the_discounted_return(tmp_path):
    agent = agents.make("policy-gradient", gym.make("CartPole-v1"), normalize_rewards=True, gamma=0.9, seed=0)
    valid, not_done = np.ones(1, dtype=bool), np.zeros(1, dtype=bool)
    # the first return, against a prior of variance 1 and weight 1e-4, has variance ~1e-4: clipped
    assert agent._scale_rewards(np.array([1.0]), valid, not_done)[0] == 10.0
    returns = [1.0]
    for t in range(1, 60):
        scaled = agent._scale_rewards(np.array([1.0]), valid, not_done)[0]
        returns.append(0.9 * returns[-1] + 1.0)  # G_t = 1 + 0.9 G_{t-1}
        assert scaled == pytest.approx(min(10.0, 1.0 / np.std(returns)), rel=1e-3)
    agent._scale_rewards(np.array([1.0]), valid, np.ones(1, dtype=bool))
    assert agent._returns[0] == 0.0  # an episode's end starts a new return
    agent.learn(500)
    agent.save(tmp_path / "pg.safetensors")
    loaded = agents.load(tmp_path / "pg.safetensors")
    assert loaded.normalize_rewards and loaded.ret_rms.count == agent.ret_rms.count > 500
    np.testing.assert_array_equal(loaded.ret_rms.var, agent.ret_rms.var)


def test_rewards_are_scaled_by_default_and_a_file_from_before_the_option_keeps_them_raw(tmp_path):
    from groundup import persistence

    env = gym.make("CartPole-v1")
    agent = agents.make("policy-gradient", env, seed=0).learn(200)
    assert agent.normalize_rewards and agent.ret_rms.count > 199
    assert agent.episode_returns == [float(n) for n in agent.episode_lengths]  # reported returns stay unscaled
    agent.save(tmp_path / "new.safetensors")
    tensors, meta = persistence.load(tmp_path / "new.safetensors")
    del meta["hyperparameters"]["normalize_rewards"]
    persistence.save(tmp_path / "old.safetensors", {k: v for k, v in tensors.items() if not k.startswith("learned.ret_")},
                     {k: v for k, v in meta.items() if k not in ("format_version", "groundup_version")})
    old = agents.load(tmp_path / "old.safetensors", env=env)
    assert not old.normalize_rewards and old.ret_rms is None
    old.learn(100)  # and it goes on learning from the raw rewards


def test_save_load_keeps_optimizer_state_and_counters(tmp_path):
    env = gym.make("CartPole-v1")
    agent = agents.make("policy-gradient", env, optimizer="rmsprop", seed=0).learn(1000)
    agent.save(tmp_path / "pg.safetensors")
    loaded = agents.load(tmp_path / "pg.safetensors", env=env)
    assert loaded.n_updates == agent.n_updates == 200 and loaded.num_timesteps == 1000
    s1, s2 = agent.optimizer.state_dict()["state"], loaded.optimizer.state_dict()["state"]
    for i in s1:
        assert torch.equal(s1[i]["square_avg"], s2[i]["square_avg"])
    obs = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs)[0], agent.predict(obs)[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "a3c"}, "mode must be 'actor-critic' or 'reinforce'; got 'a3c'"),
    ({"use_sde": True}, "use_sde=True is for Box"),
    ({"net_arch": []}, "at least one hidden layer"),
    ({"net_arch": [0]}, "positive integers"),
    ({"n_steps": 0}, "n_steps"),
    ({"gae_lambda": 1.5}, "gae_lambda"),
    ({"optimizer": "sgd"}, "optimizer must be 'adam' or 'rmsprop'; got 'sgd'"),
    ({"ent_coef": -0.1}, "ent_coef"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        agents.make("policy-gradient", gym.make("CartPole-v1"), **kwargs)


def test_bad_spaces_and_modes():
    with pytest.raises(TypeError, match="policy-gradient supports observation spaces of kind Box, Discrete; got Dict"):
        agents.make("policy-gradient", DictObs())
    vec = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    with pytest.raises(ValueError, match="mode='reinforce' learns from whole episodes of one environment"):
        agents.make("policy-gradient", vec, mode="reinforce")


@pytest.mark.parametrize("mode", ["vector_entry_point", "sync", "async"])
@pytest.mark.parametrize("agent_id", ["dqn", "policy-gradient"])
def test_every_kind_of_gymnasium_vector_environment_trains_predicts_and_repeats(agent_id, mode):
    # gym.make_vec's default for CartPole is its own vectorised class (vector_entry_point),
    # whose reset takes one integer seed, where sync and async take one per environment
    def run():
        env = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode=mode)
        agent = agents.make(agent_id, env, seed=3, **({"learning_starts": 64} if agent_id == "dqn" else {}))
        agent.learn(300)
        actions, _ = agent.predict(env.reset(seed=1)[0], deterministic=True)
        env.close()
        weights = np.concatenate([p.detach().cpu().numpy().ravel() for m in agent._modules.values() for p in m.parameters()])
        return agent, actions, weights

    agent, actions, weights = run()
    assert agent.num_timesteps == 300 and len(agent.episode_returns) > 0
    assert actions.shape == (2,) and set(actions.tolist()) <= {0, 1}
    np.testing.assert_array_equal(weights, run()[2])  # the agent's generator seeds every reset
