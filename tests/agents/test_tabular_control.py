"""Monte Carlo and TD control against known answers."""

import gymnasium as gym
import numpy as np
import pytest

import groundup  # noqa: F401
from groundup import agents
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
            agent = agents.make(agent_id, env, learning_rate=0.5, epsilon=0.1, initial_value=0.0, gamma=1.0, seed=seed).learn(n_episodes=500)
            finals.append(np.mean(agent.episode_returns[-100:]))
        online[agent_id] = np.mean(finals)
    assert -30 < online["sarsa"] < -22
    assert -55 < online["q-learning"] < -42
    assert online["sarsa"] - online["q-learning"] >= 15


def test_sarsa_finds_the_windy_path():
    env = gym.make("groundup/WindyGridWorld-v0")
    agent = agents.make("sarsa", env, learning_rate=0.5, epsilon=0.1, initial_value=0.0, gamma=1.0, seed=0).learn(n_episodes=300)
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
