"""Files written before the one persistence protocol (``_get_state``/``_set_state``) still load.

The fixtures in tests/fixtures/agents_before_protocol were written by groundup's code as it
was before the protocol (``_state_tensors``/``_extra_metadata`` and, for the deep agents,
four more hook pairs); the file layout is unchanged, so they load, re-save to the same
content, and the deep agents' mid-run checkpoints resume.
"""

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import groundup  # noqa: F401
from groundup import agents, persistence
from groundup.agents.checkpoint import resume

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "agents_before_protocol"
ENVS = {
    "q-learning": lambda: gym.make("CliffWalking-v1"),
    "mc-control": lambda: gym.make("FrozenLake-v1"),
    "td0-prediction": lambda: gym.make("FrozenLake-v1"),
    "thompson-sampling": lambda: gym.make("groundup/Bandit-v0"),
    "value-iteration": lambda: gym.make("FrozenLake-v1"),
    "semi-gradient-sarsa": lambda: gym.make("FrozenLake-v1"),
    "dqn": lambda: gym.make("CartPole-v1"),
    "policy-gradient": lambda: gym.make("CartPole-v1"),
}
# what each file's "extra" metadata restores, as (metadata key, attribute)
EXTRAS = {
    "q-learning": [("epsilon_", "epsilon_")],
    "mc-control": [("epsilon_", "epsilon_")],
    "thompson-sampling": [("likelihood_", "likelihood_")],
    "value-iteration": [("converged_", "converged_"), ("n_sweeps_", "n_sweeps_")],
    "semi-gradient-sarsa": [("epsilon_", "epsilon_")],
    "dqn": [("n_updates", "n_updates")],
    "policy-gradient": [("n_updates", "n_updates")],
}

# parameters added since the fixtures were written, with the values that describe how their
# agents learned (learning_rate=None meant sample averages, 1/n, before learning_rate_exponent)
ADDED_PARAMS = {
    "mc-control": {"learning_rate_exponent": 1.0, "learning_rate_final": None},
    "td0-prediction": {"learning_rate_exponent": 1.0},
    "q-learning": {"learning_rate_exponent": 0.8, "learning_rate_final": None},  # its file's constant learning_rate still applies
}
# state added since: q-learning counts its updates of each pair (for learning_rate=None);
# an old file's agent learned with a constant rate and starts counting at zero
ADDED_TENSORS = {"q-learning": {"visits"}}


def _without_version(meta):
    return {k: v for k, v in meta.items() if k != "groundup_version"}


@pytest.mark.parametrize("agent_id", sorted(ENVS))
def test_a_file_saved_before_the_protocol_loads_and_resaves_the_same(agent_id, tmp_path):
    path = FIXTURES / f"{agent_id}.safetensors"
    tensors, meta = persistence.load(path)
    agent = agents.load(path, env=ENVS[agent_id]())
    assert agent.agent_id == agent_id and agent.num_timesteps == meta["counters"]["num_timesteps"]
    assert agent.episode_returns == tensors["episode_returns"].tolist()
    state, extra = agent._get_state()
    added_tensors = ADDED_TENSORS.get(agent_id, set())
    for name, value in state.items():
        if name in added_tensors:
            assert not np.asarray(value).any(), name
            continue
        np.testing.assert_array_equal(np.asarray(value), tensors[name], err_msg=name)
    for key, attribute in EXTRAS.get(agent_id, []):
        assert getattr(agent, attribute) == meta["extra"][key]
    if agent_id == "dqn":
        assert agent.exploration_rate == meta["extra"]["algorithm"]["exploration_rate"]
    if agent_id == "policy-gradient":
        np.testing.assert_array_equal(agent.obs_rms.mean, tensors["learned.obs_mean"])
    agent.save(tmp_path / "again.safetensors")
    tensors2, meta2 = persistence.load(tmp_path / "again.safetensors")
    assert sorted(tensors2) == sorted({*tensors, *added_tensors})
    for name in tensors:
        np.testing.assert_array_equal(tensors2[name], tensors[name], err_msg=name)
    if agent_id != "dqn":  # a plain save of a DQN keeps no replay buffer, so its position restarts at 0
        # every agent has gained the telemetry folders since; an old file gets None (no logs)
        added = {**ADDED_PARAMS.get(agent_id, {}), "tensorboard_log": None, "monitor_dir": None}
        assert meta2["hyperparameters"] == {**meta["hyperparameters"], **added}
        meta2["hyperparameters"] = meta["hyperparameters"]
        assert _without_version(meta2) == _without_version(meta)


def test_the_greedy_policy_of_an_old_file_is_its_table():
    agent = agents.load(FIXTURES / "q-learning.safetensors")
    tensors, _ = persistence.load(FIXTURES / "q-learning.safetensors")
    np.testing.assert_array_equal(agent.predict(np.arange(48))[0], tensors["q_table"].argmax(axis=1))


@pytest.mark.parametrize("agent_id", ["dqn", "policy-gradient"])
def test_a_checkpoint_written_before_the_protocol_resumes(agent_id, tmp_path):
    original = FIXTURES / f"{agent_id}.checkpoint.safetensors"
    path = tmp_path / "checkpoint.safetensors"  # resume keeps writing checkpoints to the same path
    path.write_bytes(original.read_bytes())
    tensors, meta = persistence.load(path)
    assert meta["extra"]["run"]["done"] is False
    loaded = agents.load(path)
    assert loaded._run == meta["extra"]["run"]
    assert loaded._rng.bit_generator.state == meta["extra"]["rng"]["agent"]
    if agent_id == "dqn":
        assert loaded.replay_buffer.size == len(tensors["run.replay.actions"])
        assert loaded.replay_buffer.pos == meta["extra"]["algorithm"]["buffer_pos"]
    else:
        assert len(loaded._rollout) == len(tensors.get("run.rollout.obs", []))
    # the checkpoint names the path it was written to; point it at the copy, then resume
    meta["extra"]["run"]["checkpoint_path"] = str(path)
    persistence.save(path, tensors, {k: v for k, v in meta.items() if k not in ("format_version", "groundup_version")})
    agent = resume(path, env=gym.make("CartPole-v1"))
    assert agent.num_timesteps == meta["extra"]["run"]["end"]
    assert all(np.isfinite(p.detach().numpy()).all() for m in agent._modules.values() for p in m.parameters())
    assert persistence.load(path)[1]["extra"]["run"]["done"] is True


def test_a_file_from_a_newer_format_is_refused_naming_the_version(tmp_path):
    from safetensors.numpy import save as st_save

    tensors, meta = persistence.load(FIXTURES / "thompson-sampling.safetensors")
    meta["format_version"] = persistence.FORMAT_VERSION + 1
    meta_json = json.dumps(meta, sort_keys=True)
    data = st_save(tensors, metadata={"groundup": meta_json, "groundup_sha256": persistence._digest(meta_json, tensors)})
    path = tmp_path / "newer.safetensors"
    path.write_bytes(data)
    with pytest.raises(persistence.ModelFileError, match=f"format version {persistence.FORMAT_VERSION + 1}"):
        agents.load(path)


def test_an_old_mc_control_file_keeps_the_settings_it_learned_with():
    """Saved when epsilon was a constant 0.1 by default and learning_rate=None meant sample
    averages: it loads with both, not with today's schedule and 1/n^0.7 steps."""
    agent = agents.load(FIXTURES / "mc-control.safetensors", env=ENVS["mc-control"]())
    assert agent.epsilon == 0.1 and agent.epsilon_ == 0.1 and not agent._uses_progress
    assert agent.learning_rate is None and agent.learning_rate_exponent == 1.0
    S, A = max(((s, a) for s in range(16) for a in range(4)), key=lambda sa: agent.N[sa[0]][sa[1]])
    n, q = agent.N[S][A], agent.Q[S][A]
    agent.start_memory()
    agent.remember(S, A, 1.0)
    agent.end_episode(truncated=False)
    assert n > 1 and agent.Q[S][A] == pytest.approx(q + (1.0 - q) / (n + 1), abs=1e-15)


def test_a_semi_gradient_td0_file_from_before_visit_counts_keeps_its_constant_step(tmp_path):
    """Written as files were before learning_rate_exponent (no exponent, no feature visits):
    learning_rate=None then meant the features' constant default, 0.1 for one-hot."""
    env = gym.make("FrozenLake-v1")
    agent = agents.make("semi-gradient-td0", env, policy=np.full((16, 4), 0.25), seed=0).learn(500)
    agent.save(tmp_path / "new.safetensors")
    tensors, meta = persistence.load(tmp_path / "new.safetensors")
    assert tensors.pop("feature_visits").sum() == 500
    del meta["hyperparameters"]["learning_rate_exponent"]
    persistence.save(tmp_path / "old.safetensors", tensors,
                     {k: v for k, v in meta.items() if k not in ("format_version", "groundup_version")})
    old = agents.load(tmp_path / "old.safetensors", env=env)
    assert old.learning_rate == 0.1 and old.feature_visits_ is None
    w = old.w[0, 3]
    old.update((3, np.array([3])), 0, 1.0, (7, np.array([7])), terminated=True)
    assert old.w[0, 3] == pytest.approx(w + 0.1 * (1.0 - w), abs=1e-15)
    new = agents.load(tmp_path / "new.safetensors", env=env)  # today's file keeps counting
    assert new.learning_rate is None and (new.feature_visits_ == agent.feature_visits_).all()
