"""groundup's Gymnasium environments, registered under the ``groundup/`` namespace.

Importing ``groundup`` registers them; ``gym.make("groundup:groundup/GridWorld-v0")``
works in a fresh interpreter because Gymnasium imports the module named before the colon.

- ``groundup/GridWorld-v0``: the 3x4 grid world (deterministic, or slippery).
- ``groundup/WindyGridWorld-v0``: Sutton & Barto Example 6.5.
- ``groundup/Bandit-v0``: the k-armed testbed (Gaussian or Bernoulli arms); vectorised with
  ``gym.make_vec(..., vectorization_mode="vector_entry_point")``.
- ``groundup/TicTacToe-v0``: against a random or perfect opponent.

How a new environment is added: docs/architecture.md, "Where a new algorithm goes".
"""

from __future__ import annotations

import gymnasium as gym

from groundup.envs.bandit import BanditEnv, BanditVecEnv
from groundup.envs.grid_world import GridWorldEnv
from groundup.envs.tic_tac_toe import TicTacToeEnv
from groundup.envs.windy_grid_world import WindyGridWorldEnv

__all__ = ["BanditEnv", "BanditVecEnv", "GridWorldEnv", "TicTacToeEnv", "WindyGridWorldEnv", "register_envs", "ENV_IDS"]

ENV_IDS = ("groundup/GridWorld-v0", "groundup/WindyGridWorld-v0", "groundup/Bandit-v0", "groundup/TicTacToe-v0")


def register_envs() -> None:
    """Register the four environments with Gymnasium (idempotent)."""
    specs = {
        "groundup/GridWorld-v0": dict(entry_point="groundup.envs.grid_world:GridWorldEnv", max_episode_steps=100),
        "groundup/WindyGridWorld-v0": dict(entry_point="groundup.envs.windy_grid_world:WindyGridWorldEnv", max_episode_steps=10_000),
        "groundup/Bandit-v0": dict(entry_point="groundup.envs.bandit:BanditEnv", max_episode_steps=1000,
                                   vector_entry_point="groundup.envs.bandit:BanditVecEnv"),
        "groundup/TicTacToe-v0": dict(entry_point="groundup.envs.tic_tac_toe:TicTacToeEnv"),
    }
    for env_id, kwargs in specs.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **kwargs)


register_envs()
