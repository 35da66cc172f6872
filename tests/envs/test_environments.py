import subprocess
import sys
import warnings
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import groundup  # noqa: F401  (registers the environments)
from groundup.envs import ENV_IDS, BanditVecEnv, GridWorldEnv, TicTacToeEnv, WindyGridWorldEnv
from groundup.envs.tic_tac_toe import decode, encode, minimax


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_every_environment_passes_gymnasiums_checker(env_id, render_mode):
    env = gym.make(env_id, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker warning is a failure, not noise
        check_env(env.unwrapped)
    env.reset(seed=0)
    frame = env.render()
    if render_mode == "ansi":
        assert isinstance(frame, str) and frame
    elif render_mode == "rgb_array":
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3


def test_make_with_module_prefix_in_a_fresh_interpreter():
    code = ("import gymnasium as gym; e = gym.make('groundup:groundup/GridWorld-v0'); "
            "print(e.reset(seed=0)[0], e.unwrapped.__class__.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["8", "GridWorldEnv"]


def test_stepping_follows_the_model_P():
    env = GridWorldEnv(slip_probability=0.2)
    env.reset(seed=0)
    counts = Counter()
    for _ in range(20_000):
        env.reset(options={"state": 4})
        s, r, term, trunc, info = env.step(3)  # up from (1, 0)
        counts[s] += 1
    expected = {p_s: p for p, p_s, _, _ in env.P[4][3]}
    assert set(counts) == set(expected)
    for s, p in expected.items():
        assert abs(counts[s] / 20_000 - p) < 0.015


def test_grid_world_layout_rewards_and_starts():
    env = GridWorldEnv(step_reward=-0.1)
    assert env.reset(seed=0)[0] == 8
    assert env.P[2][2] == [(1.0, 3, 1.0, True)]
    assert env.P[6][2] == [(1.0, 7, -1.0, True)]
    assert env.P[4][2] == [(1.0, 4, -0.1, False)]  # the wall at (1, 1) blocks
    assert 5 not in env.start_states and 3 not in env.start_states and 7 not in env.start_states
    with pytest.raises(ValueError, match="options\\['state'\\]"):
        env.reset(options={"state": 5})
    with pytest.raises(ValueError, match="slip_probability"):
        GridWorldEnv(slip_probability=1.5)
    with pytest.raises(ValueError, match="action"):
        env.step(7)


def test_windy_grid_world_wind_pushes_up():
    env = WindyGridWorldEnv()
    s, _ = env.reset(seed=0, options={"state": WindyGridWorldEnv.to_state(3, 6)})
    s, r, term, _, _ = env.step(2)  # right, in a column with wind 2
    assert s == WindyGridWorldEnv.to_state(1, 7) and r == -1.0 and not term
    king = WindyGridWorldEnv(king_moves=True, stochastic_wind=True)
    assert king.action_space.n == 8
    probs = [p for p, *_ in king.P[WindyGridWorldEnv.to_state(3, 4)][0]]
    assert np.isclose(sum(probs), 1.0) and len(probs) == 3


def test_bandit_info_and_arm_persistence():
    env = gym.make("groundup/Bandit-v0", k=5)
    env.reset(seed=1)
    q = env.unwrapped.q_star.copy()
    _, r, term, trunc, info = env.step(0)
    assert info["optimal_action"] == int(np.argmax(q))
    assert np.isclose(info["regret"], q.max() - q[0])
    env.reset()
    np.testing.assert_array_equal(env.unwrapped.q_star, q)  # same problem across episodes
    env.reset(options={"resample": True})
    assert not np.array_equal(env.unwrapped.q_star, q)
    bern = gym.make("groundup/Bandit-v0", arm_distribution="bernoulli")
    bern.reset(seed=0)
    rewards = {bern.step(3)[1] for _ in range(50)}
    assert rewards <= {0.0, 1.0}
    assert len(bern.unwrapped.P[0][3]) == 2
    with pytest.raises(AttributeError, match="Bernoulli"):
        env.unwrapped.P
    with pytest.raises(ValueError, match="arm_distribution"):
        gym.make("groundup/Bandit-v0", arm_distribution="poisson")


def test_gaussian_rewards_have_the_right_moments():
    env = gym.make("groundup/Bandit-v0", max_episode_steps=None)
    env.reset(seed=3)
    rewards = np.array([env.step(2)[1] for _ in range(20_000)])
    assert abs(rewards.mean() - env.unwrapped.q_star[2]) < 0.03
    assert abs(rewards.std() - 1.0) < 0.03


def test_vector_bandit_runs_independent_problems():
    venv = gym.make_vec("groundup/Bandit-v0", num_envs=300, vectorization_mode="vector_entry_point")
    assert isinstance(venv.unwrapped, BanditVecEnv)
    obs, info = venv.reset(seed=0)
    assert obs.shape == (300,) and info["optimal_action"].shape == (300,)
    q = venv.unwrapped.q_star
    assert q.shape == (300, 10) and abs(q.mean()) < 0.05 and abs(q.std() - 1) < 0.05
    best = info["optimal_action"]
    _, r, term, trunc, info = venv.step(best)
    assert info["is_optimal"].all() and np.allclose(info["regret"], 0.0)
    for _ in range(998):
        venv.step(best)
    _, _, _, trunc, _ = venv.step(best)
    assert trunc.all()  # the 1000-step horizon
    with pytest.raises(ValueError, match="actions must be 300"):
        venv.step(np.zeros(3, dtype=np.int64))


def test_tic_tac_toe_rules():
    env = TicTacToeEnv(opponent="random")
    obs, info = env.reset(seed=0)
    assert obs == 0 and info["action_mask"].sum() == 9
    obs, r, term, _, info = env.step(4)
    board = decode(obs)
    assert board[4] == 1 and board.count(2) == 1 and info["action_mask"].sum() == 7
    taken = [i for i, c in enumerate(board) if c == 2][0]
    _, r, term, _, info = env.step(taken)
    assert r == -1.0 and term and info["illegal_move"]
    # a win ends the game with +1
    s = encode((1, 1, 0, 2, 2, 0, 0, 0, 0))
    env.reset(options={"state": s})
    _, r, term, _, _ = env.step(2)
    assert (r, term) == (1.0, True)
    with pytest.raises(ValueError, match="live board"):
        env.reset(options={"state": encode((1, 1, 1, 2, 2, 0, 0, 0, 0))})


def test_perfect_opponent_is_minimax_and_the_game_is_a_draw():
    assert minimax((0,) * 9, 1) == 0
    env = TicTacToeEnv(opponent="perfect")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(200):  # random play never beats a perfect opponent
        obs, info = env.reset()
        while True:
            legal = np.flatnonzero(info["action_mask"])
            obs, r, term, _, info = env.step(int(rng.choice(legal)))
            if term:
                assert r <= 0
                break


def test_tic_tac_toe_model_is_a_proper_distribution():
    P = TicTacToeEnv(opponent="random", agent_first=False).P
    live = [s for s in P if len(P[s][0]) > 1 or P[s][0][0][1] != s]
    assert live
    for s in live[:500]:
        for a in range(9):
            assert np.isclose(sum(p for p, *_ in P[s][a]), 1.0)
