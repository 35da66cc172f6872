"""Monte Carlo and TD control against known answers."""

import gymnasium as gym
import numpy as np
import pytest

import groundup  # noqa: F401
from groundup import agents, persistence
from groundup.cli import evaluate_agent
from groundup.envs import blackjack


def test_q_learning_frozen_lake_reaches_70_percent_in_4_of_5_seeds():
    successes = []
    for seed in range(5):
        env = gym.make("FrozenLake-v1")
        agent = agents.make("q-learning", env, seed=seed).learn(200_000)
        rate, _, _ = evaluate_agent(agent, env, 1000, seed=1000 + seed)
        successes.append(rate)
    assert sum(r >= 0.70 for r in successes) >= 4, successes


def test_q_learning_taxi_and_cliff_walking():
    env = gym.make("Taxi-v4")
    agent = agents.make("q-learning", env, seed=0).learn(200_000)
    assert evaluate_agent(agent, env, 1000, seed=1)[0] >= 7.5
    env = gym.make("CliffWalking-v1")
    agent = agents.make("q-learning", env, seed=0).learn(50_000)
    assert evaluate_agent(agent, env, 1, seed=0)[0] == -13


def test_cliff_walking_example_6_6():
    online = {}
    for agent_id in ("sarsa", "q-learning"):
        finals = []
        for seed in range(10):
            env = gym.make("CliffWalking-v1")
            agent = agents.make(agent_id, env, learning_rate=0.5, learning_rate_final=None, epsilon=0.1,
                                initial_value=0.0, gamma=1.0, seed=seed).learn(n_episodes=500)
            finals.append(np.mean(agent.episode_returns[-100:]))
        online[agent_id] = np.mean(finals)
    assert -30 < online["sarsa"] < -22
    assert -55 < online["q-learning"] < -42
    assert online["sarsa"] - online["q-learning"] >= 15


def test_sarsa_finds_the_windy_path():
    env = gym.make("groundup/WindyGridWorld-v0")
    agent = agents.make("sarsa", env, learning_rate=0.5, learning_rate_final=None, epsilon=0.1, initial_value=0.0,
                        gamma=1.0, seed=0).learn(n_episodes=300)
    assert agent.num_timesteps < 12_000  # Figure 6.3: about 8,000 steps for 170 episodes
    assert evaluate_agent(agent, env, 1, seed=0)[0] >= -17  # 15 is optimal


def test_exploring_starts_finds_the_optimal_grid_world_policy():
    env = gym.make("groundup/GridWorld-v0", step_reward=-0.04)
    es = agents.make("mc-exploring-starts", env, gamma=0.9, seed=0).learn(n_episodes=5000)
    dp = agents.make("value-iteration", env, gamma=0.9).learn()
    Q_star = dp.q_table
    for s in env.unwrapped.start_states:
        a = es.predict(s)[0]
        assert Q_star[s, a] == pytest.approx(Q_star[s].max(), abs=1e-9), (s, a)


def test_mc_control_blackjack_is_near_optimal():
    env = gym.make("Blackjack-v1")
    agent = agents.make("mc-control", env, gamma=1.0, seed=0).learn(n_episodes=150_000)
    greedy = agent.q_table.argmax(axis=1)
    exact = blackjack.expected_return(lambda obs: int(greedy[obs[0] * 22 + obs[1] * 2 + obs[2]]))
    assert exact > -0.09  # the benchmark holds -0.06 after more episodes; the optimum is -0.043


def test_epsilon_schedule_decays_linearly():
    env = gym.make("FrozenLake-v1")
    agent = agents.make("q-learning", env, epsilon=None, exploration_initial_eps=1.0, exploration_final_eps=0.1,
                        exploration_fraction=0.5, seed=0)
    seen = {}
    agent.learn(1000, callback=lambda l, g: seen.__setitem__(l["t"], l["self"].epsilon_))
    assert seen[1] == pytest.approx(1.0 - 0.9 * 1 / 500)
    assert seen[250] == pytest.approx(0.55)
    assert seen[600] == pytest.approx(0.1)


@pytest.mark.parametrize("agent_id, env_id", [("q-learning", "FrozenLake-v1"), ("semi-gradient-sarsa", "MountainCar-v0")])
def test_every_epsilon_greedy_agent_restarts_its_schedule_each_learn_and_saves_it(agent_id, env_id, tmp_path):
    agent = agents.make(agent_id, gym.make(env_id), epsilon=None, exploration_initial_eps=0.3,
                        exploration_final_eps=0.05, exploration_fraction=0.5, seed=0)
    agent.learn(200)
    assert agent.epsilon_ == pytest.approx(0.05)
    seen = []
    agent.learn(100, callback=lambda l, g: seen.append(l["self"].epsilon_))
    assert seen[0] == pytest.approx(0.3 - 0.25 * 1 / 50)  # a new budget starts the schedule again
    agent.save(tmp_path / "agent.safetensors")
    assert agents.load(tmp_path / "agent.safetensors").epsilon_ == pytest.approx(agent.epsilon_)


# -- the defaults of issue 15 --------------------------------------------------------------------------------
@pytest.mark.parametrize("agent_id, q0", [("q-learning", 1.0), ("sarsa", 1.0), ("mc-control", 0.0)])
def test_q_starts_at_the_default_initial_value_or_the_one_given(agent_id, q0):
    env = gym.make("FrozenLake-v1")
    agent = agents.make(agent_id, env, seed=0)
    assert agent.initial_value == q0
    np.testing.assert_array_equal(agent.q_table, np.full((16, 4), q0))
    given = agents.make(agent_id, env, initial_value=-0.25, seed=0)
    np.testing.assert_array_equal(given.q_table, np.full((16, 4), -0.25))


@pytest.mark.parametrize("agent_id, final", [("q-learning", 0.05), ("sarsa", 0.01), ("mc-control", 0.05)])
def test_default_epsilon_decays_from_1_to_its_final_rate_over_half_the_steps(agent_id, final):
    """SARSA, on-policy, ends at 0.01: its greedy policy is the best one only as epsilon
    goes to 0; the others end at 0.05."""
    agent = agents.make(agent_id, gym.make("FrozenLake-v1"), seed=0)
    assert agent.epsilon is None and agent.epsilon_ == 1.0  # before any step
    seen = {}
    agent.learn(1000, callback=lambda l, g: seen.__setitem__(l["t"], l["self"].epsilon_))
    # after t of the 1,000 steps: 1 - (1 - final) t / 500 until step 500, then final
    assert seen[1] == pytest.approx(1.0 - (1 - final) / 500, abs=1e-12)
    assert seen[250] == pytest.approx((1.0 + final) / 2, abs=1e-12)
    assert seen[500] == final and seen[501] == final and seen[1000] == final
    agent.learn(10, callback=lambda l, g: seen.__setitem__(("again", l["t"]), l["self"].epsilon_))
    # each learn() budget starts the schedule again
    assert seen["again", 1] == pytest.approx(1.0 - (1 - final) / 5, abs=1e-12)


def test_default_epsilon_follows_the_episodes_when_the_budget_is_episodes():
    agent = agents.make("mc-control", gym.make("FrozenLake-v1"), seed=0)
    after_episode = {}
    agent.learn(n_episodes=10, callback=lambda l, g: after_episode.__setitem__(l["episodes"], l["self"].epsilon_))
    assert after_episode[0] == 1.0  # during the first episode
    assert after_episode[2] == pytest.approx(1.0 - 0.95 * 2 / 5, abs=1e-12)
    assert after_episode[5] == 0.05 and after_episode[9] == 0.05


@pytest.mark.parametrize("agent_id", ["q-learning", "sarsa", "mc-control"])
def test_a_number_keeps_epsilon_constant(agent_id):
    constant_alpha = {} if agent_id == "mc-control" else {"learning_rate_final": None}  # else alpha needs the progress
    agent = agents.make(agent_id, gym.make("FrozenLake-v1"), epsilon=0.2, seed=0, **constant_alpha)
    seen = set()
    agent.learn(500, callback=lambda l, g: seen.add(l["self"].epsilon_))
    assert seen == {0.2} and not agent._uses_progress


def test_mc_control_steps_are_one_over_the_visits_to_the_0_7():
    agent = agents.make("mc-control", gym.make("FrozenLake-v1"), gamma=1.0, seed=0)
    assert agent.learning_rate is None and agent.learning_rate_exponent == 0.7
    expected = 0.0
    for n, G in enumerate([1.0, 0.0, 0.0, 1.0], start=1):  # four one-step episodes from (S, A) = (5, 2)
        agent.start_memory()
        agent.remember(5, 2, G)
        agent.end_episode(truncated=False)
        expected += n**-0.7 * (G - expected)
        assert agent.N[5][2] == n
        assert agent.Q[5][2] == pytest.approx(expected, abs=1e-15)
    assert agent.Q[5][2] == pytest.approx(1 - 2**-0.7 - 3**-0.7 * (1 - 2**-0.7) + 4**-0.7 * (1 - (1 - 2**-0.7) * (1 - 3**-0.7)))
    book = agents.make("mc-control", gym.make("FrozenLake-v1"), gamma=1.0, learning_rate_exponent=1.0, seed=0)
    for G in (1.0, 0.0, 0.0, 1.0):
        book.start_memory()
        book.remember(5, 2, G)
        book.end_episode(truncated=False)
    assert book.Q[5][2] == 0.5  # sample averages


@pytest.mark.parametrize("agent_id", ["q-learning", "sarsa"])
def test_td_control_steps_are_constant_or_one_over_the_updates_to_the_omega(agent_id):
    """learning_rate=None: the n-th update of (S, A) moves Q by 1/n^omega of the TD error;
    a number keeps alpha constant. (S_next = 15, FrozenLake's goal: terminal, so the
    target is R alone whatever the bootstrap.)"""
    env = gym.make("FrozenLake-v1")
    agent = agents.make(agent_id, env, learning_rate=None, learning_rate_exponent=0.6, initial_value=0.0, seed=0)
    expected = 0.0
    for n, R in enumerate([1.0, 0.0, 0.0, 1.0], start=1):
        agent.update(14, 2, R, 15, True)
        expected += n**-0.6 * (R - expected)
        assert agent.N[14][2] == n and agent.Q[14][2] == pytest.approx(expected, abs=1e-15)
    constant = agents.make(agent_id, env, learning_rate=0.25, learning_rate_final=None, initial_value=0.0, seed=0)
    for R in (1.0, 1.0):
        constant.update(14, 2, R, 15, True)
    assert constant.Q[14][2] == pytest.approx(0.25 + 0.75 * 0.25) and constant.N[14][2] == 2


def test_mc_control_saves_and_loads_its_visit_counts_and_exponent(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = agents.make("mc-control", env, learning_rate_exponent=0.8, seed=0).learn(3000)
    agent.save(tmp_path / "mc.safetensors")
    loaded = agents.load(tmp_path / "mc.safetensors", env=env)
    assert loaded.learning_rate_exponent == 0.8 and loaded.N == agent.N and sum(map(sum, agent.N)) > 0
    for a in (agent, loaded):  # one more return of the most visited pair: the same step on both
        a.start_memory()
        a.remember(0, 0, 1.0)
        a.end_episode(truncated=False)
    assert loaded.Q[0][0] == agent.Q[0][0]


@pytest.mark.parametrize("agent_id, kwargs, message", [
    ("mc-control", {"learning_rate": 0}, r"learning_rate must be a positive finite number or None \(alpha = "
                                         r"1/n\^learning_rate_exponent, n the updates of \(S, A\)\); got 0"),
    ("mc-control", {"learning_rate": -0.5}, r"learning_rate must be a positive finite number.*; got -0.5"),
    ("mc-control", {"learning_rate_exponent": 0.5}, r"learning_rate_exponent must be a number in \(0.5, 1\]; got 0.5"),
    ("mc-control", {"learning_rate_exponent": 2}, r"learning_rate_exponent must be a number in \(0.5, 1\]; got 2"),
    ("q-learning", {"learning_rate": 0}, r"learning_rate must be a positive finite number or None .*; got 0"),
    ("sarsa", {"learning_rate_exponent": 0.4}, r"learning_rate_exponent must be a number in \(0.5, 1\]; got 0.4"),
    ("sarsa", {"initial_value": float("inf")}, r"initial_value must be a finite number; got inf"),
    ("q-learning", {"initial_value": "1"}, r"initial_value must be a finite number; got '1' of type str"),
    ("sarsa", {"epsilon": -0.1}, r"epsilon must be a probability in \[0, 1\]; got -0.1"),
    ("q-learning", {"learning_rate_final": 0.0}, r"learning_rate_final must be a positive finite number or None "
                                                 r"\(alpha stays at learning_rate\); got 0.0"),
    ("sarsa", {"learning_rate": 0.005}, r"learning_rate_final \(0.01\) is larger than learning_rate \(0.005\), "
                                        r"so alpha would grow over the budget; pass a smaller learning_rate_final, "
                                        r"or learning_rate_final=None for a constant alpha"),
])
def test_bad_settings_are_named_with_what_was_given_and_what_is_accepted(agent_id, kwargs, message):
    with pytest.raises(ValueError, match=message):
        agents.make(agent_id, gym.make("FrozenLake-v1"), **kwargs)


@pytest.mark.parametrize("agent_id", ["q-learning", "sarsa"])
@pytest.mark.parametrize("budget", [dict(total_timesteps=4000), dict(n_episodes=300)])
def test_td_control_alpha_falls_linearly_over_each_learn_budget(agent_id, budget):
    """alpha after a fraction p of the budget is learning_rate + (learning_rate_final -
    learning_rate) * p, by steps or by episodes, and starts afresh at each learn call."""
    env = gym.make("FrozenLake-v1")
    agent = agents.make(agent_id, env, learning_rate=0.5, learning_rate_final=0.01, seed=0)
    seen = []

    def record(locals_, globals_):
        done = locals_["t"] / budget["total_timesteps"] if "total_timesteps" in budget \
            else locals_["episodes"] / budget["n_episodes"]
        seen.append((done, agent.alpha_))
        return True

    agent.learn(**budget, callback=record)
    assert len(seen) > 100
    for done, alpha in seen:
        assert alpha == pytest.approx(0.5 - 0.49 * min(done, 1.0), abs=1e-12)
    assert agent.alpha_ == pytest.approx(0.01)
    first = []
    agent.learn(1000, callback=lambda locals_, globals_: first.append(agent.alpha_))
    assert first[0] == pytest.approx(0.5 - 0.49 / 1000, abs=1e-12)  # a new budget starts from learning_rate again


def test_td_control_alpha_is_the_step_each_update_takes():
    """An update in the middle of the budget moves Q by the scheduled alpha of the TD error."""
    env = gym.make("FrozenLake-v1")
    agent = agents.make("q-learning", env, learning_rate=0.4, learning_rate_final=0.1, initial_value=0.0, seed=0)
    agent._on_learn_start(1000, None)
    agent._on_progress(0.5)
    assert agent.alpha_ == pytest.approx(0.25)
    agent.update(14, 2, 1.0, 15, True)
    assert agent.Q[14][2] == pytest.approx(0.25)


def test_a_td_control_file_from_before_the_alpha_schedule_keeps_its_constant_step(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = agents.make("q-learning", env, learning_rate=0.2, seed=0).learn(500)
    agent.save(tmp_path / "new.safetensors")
    tensors, meta = persistence.load(tmp_path / "new.safetensors")
    assert meta["hyperparameters"]["learning_rate_final"] == 0.01
    del meta["hyperparameters"]["learning_rate_final"]
    persistence.save(tmp_path / "old.safetensors", tensors,
                     {k: v for k, v in meta.items() if k not in ("format_version", "groundup_version")})
    old = agents.load(tmp_path / "old.safetensors", env=env)
    assert old.learning_rate_final is None
    old.learn(300)
    assert old.alpha_ == 0.2
    new = agents.load(tmp_path / "new.safetensors", env=env)
    assert new.learning_rate_final == 0.01 and new.alpha_ == pytest.approx(0.01)
