"""Checkpoints and resume for the deep agents: a run killed with SIGKILL and resumed ends with
the same weights as an uninterrupted run; NaN losses stop training and spare the checkpoint."""

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from groundup import agents
from groundup.agents.checkpoint import resume
from groundup.persistence import read_metadata

ROOT = Path(__file__).resolve().parents[2]

DQN_KW = dict(learning_starts=300, buffer_size=4000, batch_size=32, train_freq=4, gradient_steps=1,
              target_update_interval=200, net_arch=[32, 32], seed=11)
PG_KW = dict(n_steps=24, net_arch=[32, 32], ent_coef=0.01, seed=5)

CHILD = textwrap.dedent("""
    import json, sys, time
    import gymnasium as gym, torch
    torch.set_num_threads(1)
    from groundup import agents
    agent_id, env_id, kwargs, total, every, path = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    agent = agents.make(agent_id, gym.make(env_id), **kwargs)
    slow = lambda locals_, globals_: time.sleep(0.0015)  # long enough to be killed mid-run; changes nothing else
    agent.learn(total, checkpoint_every=every, checkpoint_path=path, callback=slow)
    print("finished")
""")


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _weights(agent):
    return {f"{name}.{k}": v.clone() for name, m in agent._modules.items() for k, v in m.state_dict().items()}


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


@pytest.mark.parametrize("agent_id, env_id, kwargs, total, every, kill_after", [
    ("dqn", "CartPole-v1", DQN_KW, 5000, 400, 1500),
    ("policy-gradient", "CartPole-v1", PG_KW, 5000, 400, 1500),
], ids=["dqn", "policy-gradient"])
def test_sigkilled_run_resumes_to_bitwise_equal_weights(tmp_path, agent_id, env_id, kwargs, total, every, kill_after):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    ckpt = tmp_path / "run.safetensors"
    env = dict(os.environ, PYTHONPATH=str(ROOT), GROUNDUP_DEVICE="cpu")
    child = subprocess.Popen([sys.executable, str(script), agent_id, env_id, json.dumps(kwargs), str(total), str(every),
                              str(ckpt)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 120
        step = 0
        while step < kill_after:
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never reached its checkpoint"
            time.sleep(0.05)
            if ckpt.exists():
                step = read_metadata(ckpt)["counters"]["num_timesteps"]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    saved = read_metadata(ckpt)
    assert saved["extra"]["run"]["done"] is False and saved["counters"]["num_timesteps"] < total  # killed mid-run

    resumed = resume(ckpt, gym.make(env_id))
    uninterrupted = agents.make(agent_id, gym.make(env_id), device="cpu", **kwargs).learn(total)
    assert resumed.num_timesteps == uninterrupted.num_timesteps == total
    assert resumed.episode_returns == uninterrupted.episode_returns
    assert resumed.n_updates == uninterrupted.n_updates
    _assert_same_weights(resumed, uninterrupted)
    assert read_metadata(ckpt)["extra"]["run"]["done"] is True  # the finished run's last checkpoint
    assert resume(ckpt, gym.make(env_id)).num_timesteps == total  # nothing left to do


class Crash(Exception):
    pass


def _crash_at(step):
    def callback(locals_, globals_):
        if locals_["self"].num_timesteps >= step:
            raise Crash
    return callback


@pytest.mark.parametrize("env_id, kwargs", [
    ("MountainCarContinuous-v0", dict(use_sde=True, sde_sample_freq=4, normalize_observations=True, normalize_rewards=True,
                                      n_steps=50, seed=2)),
    ("CartPole-v1", dict(mode="reinforce", normalize_observations=True, seed=2)),
], ids=["gsde-actor-critic", "reinforce"])
def test_crashed_run_resumes_exactly_with_exploration_noise_and_statistics(tmp_path, env_id, kwargs):
    # what a policy-gradient checkpoint must also carry: gSDE's ε, the observation and return
    # statistics, the partial rollout
    ckpt = tmp_path / "pg.safetensors"
    crashed = agents.make("policy-gradient", gym.make(env_id), **kwargs)
    with pytest.raises(Crash):
        crashed.learn(3000, checkpoint_every=300, checkpoint_path=ckpt, callback=_crash_at(2500))
    assert 0 < read_metadata(ckpt)["counters"]["num_timesteps"] < 2500
    resumed = resume(ckpt, gym.make(env_id))
    uninterrupted = agents.make("policy-gradient", gym.make(env_id), **kwargs).learn(3000)
    _assert_same_weights(resumed, uninterrupted)
    np.testing.assert_array_equal(resumed.obs_rms.var, uninterrupted.obs_rms.var)
    if kwargs.get("normalize_rewards"):
        np.testing.assert_array_equal(resumed.ret_rms.var, uninterrupted.ret_rms.var)
    assert resumed.episode_returns == uninterrupted.episode_returns


@pytest.mark.parametrize("agent_id, kwargs", [("dqn", DQN_KW), ("policy-gradient", PG_KW)])
def test_vector_env_resume_continues_from_the_saved_state(tmp_path, agent_id, kwargs):
    make_env = lambda: gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")  # noqa: E731
    ckpt = tmp_path / "vec.safetensors"
    agent = agents.make(agent_id, make_env(), **kwargs)
    with pytest.raises(Crash):
        agent.learn(3000, checkpoint_every=500, checkpoint_path=ckpt, callback=_crash_at(1300))
    saved = agents.load(ckpt)
    assert saved.num_timesteps == 1000 and saved._run["done"] is False
    if agent_id == "dqn":
        # the buffer came with the checkpoint: every step but the resets after each finished episode
        resets = 1000 - saved.replay_buffer.size
        assert saved.num_episodes - 2 <= resets <= saved.num_episodes
    before = saved.n_updates
    resumed = resume(ckpt, make_env())
    assert resumed.num_timesteps == 3000
    if agent_id == "dqn":  # 4 gradient steps... one per train_freq vector steps after learning_starts
        assert resumed.n_updates == before + (3000 - 1000) // 2 // 4
    else:
        assert resumed.n_updates == 3000 // 2 // 24
    assert len(resumed.episode_returns) > len(saved.episode_returns)


def test_resume_refuses_a_plain_save(tmp_path):
    agent = agents.make("dqn", gym.make("CartPole-v1"), **DQN_KW)
    agent.save(tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not a checkpoint"):
        resume(tmp_path / "plain.safetensors", gym.make("CartPole-v1"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        agent.learn(100, checkpoint_every=10, checkpoint_path=tmp_path / "missing" / "x.safetensors")


class NaNRewardAfter(gym.Wrapper):
    def __init__(self, env, step):
        super().__init__(env)
        self.step_at, self.t = step, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        return obs, (math.nan if self.t >= self.step_at else reward), terminated, truncated, info


@pytest.mark.parametrize("agent_id, kwargs", [("dqn", DQN_KW), ("policy-gradient", PG_KW)])
def test_nan_in_the_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, agent_id, kwargs):
    ckpt = tmp_path / "nan.safetensors"
    agent = agents.make(agent_id, NaNRewardAfter(gym.make("CartPole-v1"), 1500), **kwargs)
    with pytest.raises(FloatingPointError) as info:
        agent.learn(5000, checkpoint_every=400, checkpoint_path=ckpt)
    message = str(info.value)
    failed_at = agent.num_timesteps
    assert f"at environment step {failed_at}" in message and "loss became nan" in message
    assert 1500 <= failed_at < 1700
    good = agents.load(ckpt)
    step = good.num_timesteps
    assert f"holds step {step}" in message and str(ckpt) in message
    assert 1100 <= step < 1500  # before the first NaN reward
    for name, module in good._modules.items():
        for p in module.parameters():
            assert torch.isfinite(p).all(), name


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # acting on the diverged weights
def test_a_huge_learning_rate_is_reported_as_a_nan_loss(tmp_path):
    agent = agents.make("dqn", gym.make("CartPole-v1"), learning_rate=1e38, max_grad_norm=1e38,
                        **{**DQN_KW, "learning_starts": 100})
    with pytest.raises(FloatingPointError, match=r"the TD \(Huber\) loss became (nan|inf) at environment step \d+"):
        agent.learn(3000)
    pg = agents.make("policy-gradient", gym.make("CartPole-v1"), learning_rate=1e38, max_grad_norm=1e38, **PG_KW)
    with pytest.raises(FloatingPointError, match="no checkpoint had been written"):
        pg.learn(3000)
