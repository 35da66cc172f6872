"""Telemetry: TensorBoard event files read back with TensorBoard's EventAccumulator, monitor
files read back with Stable-Baselines3's load_results, for agents and epoch-trained estimators."""

import re
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

import groundup  # noqa: F401  (registers the environments)
from groundup import agents
from groundup.agents.exploration import EpsilonSchedule
from groundup.progress import TrainingLog
from groundup.telemetry import MonitorFile, next_run_dir

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
results_plotter = pytest.importorskip("stable_baselines3.common.results_plotter")


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def read_scalars(run_dir):
    """tag -> (steps, values) of the event files in ``run_dir``."""
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        out[tag] = (np.array([e.step for e in events]), np.array([e.value for e in events]))
    return out


def test_q_learning_logs_sb3_tags_and_monitor_rows_that_match_its_episodes(tmp_path):
    env = gym.make("FrozenLake-v1")
    total = 20_000
    agent = agents.make("q-learning", env, seed=0, tensorboard_log=str(tmp_path / "tb"), monitor_dir=tmp_path / "mon")
    agent.learn(total)
    run_dir = tmp_path / "tb" / "QLearning_1"
    scalars = read_scalars(run_dir)
    assert {"rollout/ep_rew_mean", "rollout/ep_len_mean", "rollout/exploration_rate", "train/learning_rate",
            "time/fps"} <= set(scalars)
    steps, len_mean = scalars["rollout/ep_len_mean"]
    assert np.all(np.diff(steps) > 0) and steps[-1] == total == agent.num_timesteps
    assert len(steps) == total // 2048 + 1  # every 2,048 steps, and the last point at the end
    # the last point averages the last 100 episodes, as SB3's ep_info_buffer
    assert len_mean[-1] == pytest.approx(np.mean(agent.episode_lengths[-100:]), rel=1e-6)
    assert scalars["rollout/ep_rew_mean"][1][-1] == pytest.approx(np.mean(agent.episode_returns[-100:]), rel=1e-6, abs=1e-7)
    # epsilon follows the linear schedule (the log at step s sees the rate set after step s - 1)
    eps_steps, eps = scalars["rollout/exploration_rate"]
    schedule = EpsilonSchedule(None, agent.exploration_initial_eps, agent.exploration_final_eps, agent.exploration_fraction)
    expected = [schedule.value((s - 1) / total) for s in eps_steps]
    np.testing.assert_allclose(eps, expected, atol=1e-6)
    assert eps[0] > 0.8 and eps[-1] == pytest.approx(0.05)
    # alpha falls linearly over the budget, as epsilon does, and reaches the final value at the end
    alpha_steps, alpha = scalars["train/learning_rate"]
    lr, final = agent.learning_rate, agent.learning_rate_final
    done = [(s - 1) / total if s < total else 1.0 for s in alpha_steps]
    np.testing.assert_allclose(alpha, [lr + (final - lr) * p for p in done], atol=1e-6)
    assert np.all(scalars["time/fps"][1] > 0)

    monitor = results_plotter.load_results(str(tmp_path / "mon"))
    assert len(monitor) == agent.num_episodes > 100
    np.testing.assert_allclose(monitor["r"], agent.episode_returns)
    np.testing.assert_array_equal(monitor["l"], agent.episode_lengths)
    assert np.all(np.diff(monitor["t"]) >= 0)
    header = (tmp_path / "mon" / "monitor.csv").read_text().splitlines()[:2]
    assert header[0].startswith('#{"t_start": ') and '"env_id": "FrozenLake-v1"' in header[0] and header[1] == "r,l,t"


def test_runs_get_numbered_sub_folders_and_dqn_logs_loss_and_exploration(tmp_path):
    env = gym.make("CartPole-v1")
    agent = agents.make("dqn", env, seed=0, learning_starts=50, batch_size=16, buffer_size=1000, net_arch=[32, 32],
                        learning_rate=1e-4, tensorboard_log=tmp_path)
    agent.learn(300)
    agent.learn(300)
    agent.learn(300, tb_log_name="tuned")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DQN_1", "DQN_2", "tuned_1"]
    scalars = read_scalars(tmp_path / "DQN_2")
    steps, loss = scalars["train/loss"]
    assert steps[-1] == 600 and np.all(np.isfinite(loss)) and np.all(loss >= 0)
    np.testing.assert_allclose(scalars["train/learning_rate"][1], 1e-4, rtol=1e-6)
    assert scalars["rollout/exploration_rate"][1][-1] == pytest.approx(agent.exploration_rate, rel=1e-6)
    assert next_run_dir(tmp_path, "DQN").name == "DQN_3"


def test_a_vector_env_writes_every_sub_environment_into_one_monitor_file(tmp_path):
    env = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 2)
    agent = agents.make("policy-gradient", env, seed=0, monitor_dir=tmp_path)
    agent.learn(1_000)
    monitor = results_plotter.load_results(str(tmp_path))
    assert len(monitor) == agent.num_episodes > 5
    np.testing.assert_allclose(monitor["r"], agent.episode_returns)
    np.testing.assert_array_equal(monitor["l"], agent.episode_lengths)


def test_a_later_learn_call_appends_to_the_monitor_file(tmp_path):
    agent = agents.make("sarsa", gym.make("FrozenLake-v1"), seed=1, monitor_dir=tmp_path)
    agent.learn(3_000)
    agent.learn(3_000)
    monitor = results_plotter.load_results(str(tmp_path))
    np.testing.assert_array_equal(monitor["l"], agent.episode_lengths)


def test_bandits_log_reward_and_regret_per_pull(tmp_path):
    env = gym.make_vec("groundup/Bandit-v0", num_envs=50, vectorization_mode="vector_entry_point")
    agent = agents.make("epsilon-greedy", env, seed=0, tensorboard_log=tmp_path)
    agent.learn(50 * 200)
    scalars = read_scalars(tmp_path / "EpsilonGreedyBandit_1")
    steps, reward = scalars["rollout/reward_mean"]
    assert steps[-1] == 10_000 and len(reward) == 10_000 // 2048 + 1
    regret = scalars["rollout/regret_mean"][1]
    assert np.all(regret >= 0) and regret[-1] < regret[0]  # it learns which arm is best
    np.testing.assert_allclose(scalars["rollout/exploration_rate"][1], 0.1, rtol=1e-6)


def test_dynamic_programming_logs_the_value_change_of_every_sweep(tmp_path):
    agent = agents.make("value-iteration", gym.make("FrozenLake-v1"), tensorboard_log=tmp_path, monitor_dir=tmp_path / "m")
    agent.learn()
    steps, delta = read_scalars(tmp_path / "ValueIteration_1")["train/value_change"]
    np.testing.assert_array_equal(steps, np.arange(1, agent.n_sweeps_ + 1))
    assert delta[-1] < agent.theta <= delta[0]
    assert len(results_plotter.load_results(str(tmp_path / "m"))) == 0  # no episodes: a header only


def test_the_parameters_are_kept_by_get_params_save_and_load(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = agents.make("mc-control", env, seed=0, tensorboard_log=tmp_path / "tb", monitor_dir=str(tmp_path / "m"))
    params = agent.get_params()
    assert params["tensorboard_log"] == str(tmp_path / "tb") and params["monitor_dir"] == str(tmp_path / "m")
    agent.save(tmp_path / "a.safetensors")
    loaded = agents.load(tmp_path / "a.safetensors", env=env)
    assert loaded.tensorboard_log == str(tmp_path / "tb") and loaded.monitor_dir == str(tmp_path / "m")


def test_files_are_closed_when_learning_raises(tmp_path):
    agent = agents.make("q-learning", gym.make("FrozenLake-v1"), seed=0, tensorboard_log=tmp_path, monitor_dir=tmp_path)

    def fail(locals_, globals_):
        if locals_["self"].num_episodes == 30:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        agent.learn(10_000, callback=fail)
    assert agent._telemetry is None
    monitor = results_plotter.load_results(str(tmp_path))
    np.testing.assert_array_equal(monitor["l"], agent.episode_lengths)
    assert read_scalars(tmp_path / "QLearning_1")["rollout/ep_len_mean"][0][-1] == agent.num_timesteps


@pytest.mark.parametrize("name", ["tensorboard_log", "monitor_dir"])
@pytest.mark.parametrize("bad", [3, ["logs"], ""])
def test_a_bad_folder_is_refused_naming_the_argument(name, bad):
    with pytest.raises(TypeError, match=rf"{name} must be None or a folder path .*got {re.escape(repr(bad))}"):
        agents.make("q-learning", gym.make("FrozenLake-v1"), **{name: bad})


def test_a_bad_run_name_is_refused(tmp_path):
    agent = agents.make("q-learning", gym.make("FrozenLake-v1"), tensorboard_log=tmp_path)
    with pytest.raises(ValueError, match="tb_log_name must be a non-empty folder name"):
        agent.learn(100, tb_log_name="a/b")


def test_without_tensorboard_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.record_writer", None)  # as if tensorboard were not installed
    agent = agents.make("q-learning", gym.make("FrozenLake-v1"), tensorboard_log=tmp_path, monitor_dir=tmp_path)
    with pytest.raises(ImportError, match=r"pip install groundup\[logging\]"):
        agent.learn(100)
    with pytest.raises(ImportError, match=r"pip install groundup\[logging\]"):
        TrainingLog(name="RBM", tensorboard_log=str(tmp_path))
    assert (tmp_path / "monitor.csv").exists()  # opened first, and closed again when TensorBoard failed


def test_monitor_file_format_is_sb3s(tmp_path):
    monitor = MonitorFile(tmp_path, "Env-v0", t_start=None)
    monitor.write(1.5, 3)
    monitor.write(-2.0, 7)
    monitor.close()
    frame = results_plotter.load_results(str(tmp_path))
    assert frame["r"].tolist() == [1.5, -2.0] and frame["l"].tolist() == [3, 7]
    x, y = results_plotter.ts2xy(frame, results_plotter.X_TIMESTEPS)
    assert x.tolist() == [3, 10] and y.tolist() == [1.5, -2.0]


def test_an_unsupervised_estimator_logs_every_epoch(tmp_path):
    from sklearn.base import clone

    from groundup.unsupervised import RBM

    X = (np.random.default_rng(0).random((64, 16)) < 0.3).astype(np.float32)
    rbm = RBM(n_components=8, n_iter=3, batch_size=16, random_state=0, tensorboard_log=str(tmp_path))
    assert clone(rbm).get_params()["tensorboard_log"] == str(tmp_path)
    rbm.fit(X)
    steps, error = read_scalars(tmp_path / "RBM_1")["train/reconstruction_error"]
    np.testing.assert_array_equal(steps, [1, 2, 3])
    np.testing.assert_allclose(error, rbm.loss_curve_, rtol=1e-6)


def test_word2vec_logs_its_loss_per_epoch(tmp_path):
    from groundup.nlp import Word2Vec

    rng = np.random.default_rng(0)
    sentences = [[f"w{i}" for i in rng.integers(20, size=8)] for _ in range(200)]
    model = Word2Vec(vector_size=8, min_count=1, epochs=3, workers=1, tensorboard_log=str(tmp_path)).fit(sentences)
    steps, loss = read_scalars(tmp_path / "Word2Vec_1")["train/loss"]
    np.testing.assert_array_equal(steps, [1, 2, 3])
    np.testing.assert_allclose(loss, model.training_loss_, rtol=1e-6)
    assert np.all(loss > 0)


def _toy_data():
    rng = np.random.default_rng(0)
    X = rng.random((80, 12)).astype(np.float32)
    sentences = [[f"w{i}" for i in rng.integers(20, size=6)] for _ in range(60)]
    return X, (X[:, 0] > 0.5).astype(int), sentences


ESTIMATORS = {
    # name -> (fit(folder) -> model, the tag it logs, the x-axis positions)
    "GloVe": (lambda d, X, y, s: __import__("groundup.nlp", fromlist=["GloVe"]).GloVe(
        vector_size=8, min_count=1, solver="adagrad", epochs=3, tensorboard_log=d).fit(s), "train/loss", [1, 2, 3]),
    "RNNTagger": (lambda d, X, y, s: __import__("groundup.nlp", fromlist=["RNNTagger"]).RNNTagger(
        max_iter=2, tensorboard_log=d).fit(s, [["A" if w < "w1" else "B" for w in x] for x in s]), "train/loss", [1, 2]),
    "Autoencoder": (lambda d, X, y, s: __import__("groundup.unsupervised", fromlist=["Autoencoder"]).Autoencoder(
        n_components=3, max_iter=3, tensorboard_log=d).fit(X), "train/loss", [1, 2, 3]),
    "DBN": (lambda d, X, y, s: __import__("groundup.unsupervised", fromlist=["DBN"]).DBN(
        hidden_layer_sizes=(4,), max_iter=2, tensorboard_log=d).fit(X, y), "train/loss", [1, 2]),
    "TSNE": (lambda d, X, y, s: __import__("groundup.unsupervised", fromlist=["TSNE"]).TSNE(
        max_iter=300, random_state=0, tensorboard_log=d).fit(X), "train/kl_divergence", [50, 100, 150, 200, 250, 300]),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.filterwarnings("ignore")  # toy data: the estimators warn that they learn little from it
def test_epoch_trained_estimators_log_through_their_training_log(name, tmp_path):
    fit, tag, steps = ESTIMATORS[name]
    model = fit(str(tmp_path), *_toy_data())
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}_1"]
    scalars = read_scalars(tmp_path / f"{name}_1")
    np.testing.assert_array_equal(scalars[tag][0], steps)
    assert np.all(np.isfinite(scalars[tag][1]))
    assert not any(t.endswith(("/layer", "/units", "/time_s")) for t in scalars)  # counters and times are not plotted
    if name == "TSNE":  # no per-iteration record: the last point is the final divergence (Z from one step before)
        assert scalars[tag][1][-1] == pytest.approx(model.kl_divergence_, rel=0.05)
    elif name == "GloVe":
        np.testing.assert_allclose(scalars[tag][1], model.training_loss_, rtol=1e-6)
    else:  # the same numbers as the estimator's own record
        np.testing.assert_allclose(scalars[tag][1], model.training_log_.column(tag.split("/")[1]), rtol=1e-6)
