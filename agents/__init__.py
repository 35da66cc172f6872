"""groundup's reinforcement-learning agents and their registry.

>>> import gymnasium as gym
>>> from groundup import agents
>>> env = gym.make("FrozenLake-v1")
>>> agent = agents.make("q-learning", env, learning_rate=0.1, gamma=0.99, seed=0)
>>> agent = agent.learn(total_timesteps=10_000)

``agents.registry`` maps each id to its :class:`AgentSpec`; ``agents.register`` adds one
(third-party packages use the entry-point group ``groundup.agents``). How agents are
built (the base classes, the shared loops, a new agent step by step): docs/architecture.md.
"""

from groundup.agents.base import Agent, EnvSpaces, SpaceMismatchError, load
from groundup.agents.registry import ENTRY_POINT_GROUP, FAMILIES, AgentSpec, make, register, registry, spec

__all__ = ["Agent", "AgentSpec", "EnvSpaces", "SpaceMismatchError", "ENTRY_POINT_GROUP", "FAMILIES", "load", "make",
           "register", "registry", "spec", "BUILTIN_IDS"]

_BUILTINS = [
    # id, entry point, family, summary
    ("epsilon-greedy", "groundup.agents.bandits:EpsilonGreedyBandit", "bandits",
     "sample-average action values, a random arm with probability epsilon"),
    ("optimistic-initial-values", "groundup.agents.bandits:OptimisticInitialValues", "bandits",
     "greedy from optimistic initial estimates (Q1 = 5, alpha = 0.1)"),
    ("ucb1", "groundup.agents.bandits:UCB1", "bandits", "upper confidence bound: Q + c sqrt(ln t / N)"),
    ("thompson-sampling", "groundup.agents.bandits:ThompsonSampling", "bandits",
     "posterior sampling (Gaussian-Normal or Beta-Bernoulli)"),
    ("policy-evaluation", "groundup.agents.dynamic_programming:PolicyEvaluation", "dynamic programming",
     "iterative policy evaluation of a given policy on env.unwrapped.P"),
    ("policy-iteration", "groundup.agents.dynamic_programming:PolicyIteration", "dynamic programming",
     "evaluate, improve greedily, repeat until the policy is stable"),
    ("value-iteration", "groundup.agents.dynamic_programming:ValueIteration", "dynamic programming",
     "Bellman optimality backups until the values settle"),
    ("mc-prediction", "groundup.agents.monte_carlo:MCPrediction", "Monte Carlo",
     "first-visit Monte Carlo estimate of V for a given policy"),
    ("mc-exploring-starts", "groundup.agents.monte_carlo:MCExploringStarts", "Monte Carlo",
     "Monte Carlo control from random (state, action) starts"),
    ("mc-control", "groundup.agents.monte_carlo:MCControl", "Monte Carlo",
     "on-policy first-visit Monte Carlo control, epsilon-soft"),
    ("td0-prediction", "groundup.agents.temporal_difference:TD0Prediction", "temporal difference",
     "TD(0) estimate of V for a given policy"),
    ("sarsa", "groundup.agents.temporal_difference:Sarsa", "temporal difference", "on-policy TD control"),
    ("q-learning", "groundup.agents.temporal_difference:QLearning", "temporal difference", "off-policy TD control"),
    ("semi-gradient-td0", "groundup.agents.approximation:SemiGradientTD0", "approximation",
     "semi-gradient TD(0) estimate of v for a given policy, linear in tile-coding/RBF features"),
    ("semi-gradient-sarsa", "groundup.agents.approximation:SemiGradientSarsa", "approximation",
     "episodic semi-gradient SARSA (or expected SARSA / Q-learning), linear in tile-coding/RBF features"),
    ("dqn", "groundup.agents.dqn:DQN", "deep",
     "deep Q-network: replay buffer, target network, Double DQN and dueling options"),
    ("policy-gradient", "groundup.agents.policy_gradient:PolicyGradient", "deep",
     "REINFORCE with a learned baseline, or n-step actor-critic; discrete or Gaussian actions"),
]

for _id, _entry, _family, _summary in _BUILTINS:
    register(_id, _entry, _family, _summary)

BUILTIN_IDS = tuple(i for i, *_ in _BUILTINS)
