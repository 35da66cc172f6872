"""The one API every agent shares, close to Stable-Baselines3's.

``Agent(env, *, gamma, seed, verbose, device, **hyperparameters)`` checks the spaces;
``learn(total_timesteps, callback=None, progress_bar=False)`` trains and returns the agent;
``predict(observation, state=None, episode_start=None, deterministic=True)`` returns
``(action, None)``, batched when the observation is; ``save(path)`` and
``groundup.agents.load(path, env=None)`` go through :mod:`groundup.persistence`.

Subclasses declare the spaces they support (:attr:`observation_spaces`,
:attr:`action_spaces`, as kinds from :func:`groundup.agents.spaces.space_kind`), store
every ``__init__`` argument under its own name (scikit-learn style, so ``get_params`` and
saving need no extra code), and provide ``_get_state() -> (tensors, metadata)`` and
``_set_state(tensors, metadata)`` for what they learn.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from groundup import persistence
from groundup.agents import spaces as sp
from groundup.agents.environment import Callback, check_uniform_vector_env, reset_env
from groundup.agents.telemetry import AgentLogging
from groundup.telemetry import AgentTelemetry, check_log_dir
from groundup.validation import (check_gamma, check_in_interval, check_int, check_learning_rate, check_number,
                                 check_positive, check_probability, check_seed)

__all__ = ["Agent", "EnvSpaces", "SpaceMismatchError", "check_gamma", "check_positive", "check_probability",
           "check_learning_rate", "check_initial_value", "check_learning_rate_exponent", "load", "visit_count_step"]

class SpaceMismatchError(ValueError):
    """A saved agent was loaded for (or given) an environment with other spaces."""


class EnvSpaces:
    """Stands in for an environment when an agent is loaded without one: spaces only."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, num_envs: int = 1) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.num_envs = num_envs


# -- argument checks: groundup.validation's, and the three only agents need ------------------
def check_initial_value(value: Any, name: str = "initial_value") -> float:
    """A starting value of the estimates (Q_1, optimistic or not): any finite number."""
    return check_number(name, value)


def check_learning_rate_exponent(value: Any, name: str = "learning_rate_exponent") -> float:
    """The exponent omega of visit-count step sizes alpha = 1/n^omega: a number in (0.5, 1],
    where the steps still add up to infinity (sum alpha = inf) while their squares do not
    (sum alpha^2 < inf), the Robbins-Monro conditions (Sutton & Barto, equation 2.7) under
    which the estimates converge. 1 gives sample averages."""
    return check_in_interval(name, value, 0.5, 1.0, low_open=True, what="a number")


def visit_count_step(n: int, omega: float) -> float:
    """The visit-count step size 1/n^omega for the n-th update (1/n exactly when omega is 1:
    sample averages, as the book's)."""
    return 1.0 / n if omega == 1.0 else n ** -omega


class Agent(AgentLogging):
    """Base class of every groundup agent (see the module docstring for the API).

    Parameters
    ----------
    env
        A Gymnasium environment (or a ``gymnasium.vector.VectorEnv`` where the agent
        supports one).
    gamma
        Discount factor in [0, 1].
    seed
        Seeds the agent's random choices and the environment's first reset.
    verbose
        0 silent, 1 a line per (some) episodes or sweeps.
    device
        Torch device for the agents that use torch; accepted everywhere for one API.
    tensorboard_log
        A folder for TensorBoard scalars (SB3's name and layout: each
        ``learn(tb_log_name=...)`` call writes into ``tensorboard_log/{tb_log_name}_{n}``);
        ``None`` (default) logs nothing. Needs ``pip install groundup[logging]``.
    monitor_dir
        A folder for SB3's ``monitor.csv`` (one row per finished episode), read by
        ``stable_baselines3.common.results_plotter.load_results``; ``None`` (default)
        writes none. Both are saved with the agent, as SB3 saves ``tensorboard_log``, so
        a loaded agent goes on logging where it did.
    """

    agent_id: ClassVar[str] = ""
    family: ClassVar[str] = ""
    observation_spaces: ClassVar[tuple[str, ...]] = ()
    action_spaces: ClassVar[tuple[str, ...]] = ()
    requires_model: ClassVar[bool] = False
    is_prediction: ClassVar[bool] = False
    supports_vector_env: ClassVar[bool] = False
    #: the hyper-parameters ``groundup tune`` searches, declared beside their defaults:
    #: name -> ``("uniform", low, high)``, ``("log_uniform", low, high)``, ``("int", low, high)``,
    #: ``("log_int", low, high)`` or ``("categorical", [choice, ...])`` (JSON values). Empty: nothing
    #: to tune (prediction and dynamic programming agents). Checked by
    #: :func:`groundup.experiments.tune.check_search_space`; agents never import a tuner.
    search_space: ClassVar[dict[str, tuple]] = {}
    #: names of __init__ arguments that are not JSON hyper-parameters (saved otherwise)
    _non_json_params: ClassVar[tuple[str, ...]] = ()
    #: __init__ arguments stored under another attribute name (argument -> attribute)
    _param_attributes: ClassVar[dict[str, str]] = {}

    def __init__(self, env: Any, *, gamma: float = 0.99, seed: int | None = None, verbose: int = 0, device: str = "auto",
                 tensorboard_log: str | None = None, monitor_dir: str | None = None) -> None:
        self.gamma = check_gamma(gamma)
        self.seed = check_seed(seed)
        self.verbose = check_int("verbose", verbose, minimum=0)
        self.device = device
        self.tensorboard_log = check_log_dir("tensorboard_log", tensorboard_log)
        self.monitor_dir = check_log_dir("monitor_dir", monitor_dir)
        self._telemetry: AgentTelemetry | None = None
        self._monitor_t_start: float | None = None
        self.num_timesteps = 0
        self.num_episodes = 0
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self._reset_seed_used = False
        self._bind_env(env)

    # -- environment and spaces -------------------------------------------------------
    def _bind_env(self, env: Any) -> None:
        if env is None:
            raise TypeError(f"{self._name()} needs an environment: a gymnasium.Env" + (" or VectorEnv" if self.supports_vector_env else ""))
        if isinstance(env, gym.vector.VectorEnv):
            if not self.supports_vector_env:
                raise TypeError(f"{self._name()} takes a single gymnasium.Env, not a vector environment ({type(env).__name__})")
            obs_space, act_space, n_envs = env.single_observation_space, env.single_action_space, env.num_envs
            check_uniform_vector_env(env, self._name())
        elif isinstance(env, EnvSpaces):
            obs_space, act_space, n_envs = env.observation_space, env.action_space, env.num_envs
        elif hasattr(env, "observation_space") and hasattr(env, "action_space") and hasattr(env, "step"):
            obs_space, act_space, n_envs = env.observation_space, env.action_space, 1
        else:
            raise TypeError(f"{self._name()} needs a gymnasium.Env; got {type(env).__name__}")
        self._check_spaces(obs_space, act_space)
        self.observation_space = obs_space
        self.action_space = act_space
        self.n_envs = n_envs
        self.env = None if isinstance(env, EnvSpaces) else env

    def _check_spaces(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        """Raise ``TypeError`` naming the agent, the space and the supported kinds."""
        for what, space, supported in (("observation", observation_space, self.observation_spaces),
                                       ("action", action_space, self.action_spaces)):
            if sp.space_kind(space) not in supported:
                raise TypeError(
                    f"{self._name()} supports {what} spaces of kind {', '.join(supported)}; "
                    f"got {sp.describe(space)} (kind {sp.space_kind(space)})"
                )

    def set_env(self, env: Any) -> None:
        """Attach an environment (for a loaded agent, or to switch to an equal one)."""
        old_obs, old_act = self.observation_space, self.action_space
        self._bind_env(env)
        if self.observation_space != old_obs or self.action_space != old_act:
            new = (self.observation_space, self.action_space)
            self.observation_space, self.action_space = old_obs, old_act
            raise SpaceMismatchError(
                f"{self._name()} was built for observation space {old_obs} and action space {old_act}; "
                f"the new environment has {new[0]} and {new[1]}"
            )

    def get_env(self) -> Any:
        """The environment this agent acts in (None after ``agents.load`` without ``env=``)."""
        return self.env

    def _require_env(self) -> Any:
        if self.env is None:
            raise RuntimeError(f"{self._name()} has no environment (it was loaded without one); pass env= to agents.load or call set_env(env)")
        return self.env

    def _name(self) -> str:
        return self.agent_id or type(self).__name__

    #: where the seed of each reset comes from (see :func:`reset_env`): ``"first"``, the agent's
    #: ``seed`` on its first reset only; ``"generator"``, a fresh draw from ``self._np_rng``
    #: at every reset, so that every episode repeats exactly
    _reset_seeds: ClassVar[str] = "first"

    def _reset_env(self, env: Any, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset ``env`` with the seed this agent's policy (``_reset_seeds``) gives."""
        if self._reset_seeds == "generator":
            return reset_env(env, rng=self._np_rng, options=options)
        if not self._reset_seed_used and self.seed is not None:
            self._reset_seed_used = True
            return reset_env(env, seed=self.seed, options=options)
        return reset_env(env, options=options)

    # -- hyper-parameters (scikit-learn style) ------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        names = []
        for klass in cls.__mro__:
            if klass is object:
                continue
            for name, p in inspect.signature(klass.__init__).parameters.items():
                if name in ("self", "env") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name in names:
                    continue
                names.append(name)
            if klass is Agent:
                break
        return names

    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters this agent was built with (name -> value)."""
        attributes = ((name, self._param_attributes.get(name, name)) for name in self._param_names())
        return {name: getattr(self, attribute) for name, attribute in attributes if hasattr(self, attribute)}

    # -- the API ------------------------------------------------------------------------
    def learn(self, total_timesteps: int | None = None, *, callback: Callback | None = None, progress_bar: bool = False,
              tb_log_name: str | None = None) -> "Agent":
        """Train in the environment and return ``self`` (Stable-Baselines3's ``learn``).

        Parameters
        ----------
        total_timesteps : int or None
            Environment steps to train for. Dynamic-programming agents need none: they sweep
            until ``theta`` or ``max_iterations``; step-wise agents also take ``n_episodes=``.
        callback : callable, optional
            Called as ``callback(locals_, globals_)`` after each step; returning ``False`` stops
            training early.
        progress_bar : bool, default False
            Show a tqdm progress bar.
        tb_log_name : str, optional
            This run's TensorBoard sub-folder, ``tensorboard_log/{tb_log_name}_{n}`` (default:
            the class name, as SB3's ``"DQN"``); used only when the agent has a ``tensorboard_log``.

        Returns
        -------
        Agent
            This agent, trained; ``episode_returns`` and ``episode_lengths`` hold each episode.
        """
        raise NotImplementedError

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> tuple[Any, None]:
        """The action for an observation, as Stable-Baselines3's ``predict``.

        Parameters
        ----------
        observation : array_like
            One observation, or a batch (first axis) as a vector environment returns them.
        state, episode_start : None
            Accepted for SB3's signature (recurrent policies); ignored.
        deterministic : bool, default True
            The greedy action; ``False`` samples from the behaviour policy.

        Returns
        -------
        tuple
            ``(action, None)``; ``action`` is batched when the observation is.
        """
        raise NotImplementedError

    def _record_episode(self, G: float, length: int) -> None:
        self.episode_returns.append(float(G))
        self.episode_lengths.append(int(length))
        self.num_episodes += 1
        if self._telemetry is not None:
            self._telemetry.episode(float(G), int(length))
        if self.verbose and self.num_episodes % max(1, 10 ** (len(str(self.num_episodes)) - 1)) == 0:
            print(f"[{self._name()}] episode {self.num_episodes}: return {G:.3f}, length {length}, steps {self.num_timesteps}")

    # -- persistence: one protocol ---------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """What the agent has learned: ``(tensors, metadata)``, named arrays and JSON values.

        A subclass extends its parent's state: ``tensors, metadata = super()._get_state()``,
        then adds its own entries. The metadata is saved as the file's ``"extra"`` entry."""
        return {}, {}

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        """Restore what :meth:`_get_state` gave (a subclass calls ``super()._set_state`` first)."""

    # hyper-parameters added since files were first written -> the value that describes how
    # an agent saved before it learned, where today's default does not (each class lists its own)
    _params_added: dict[str, Any] = {}

    @classmethod
    def _params_before(cls, params: dict[str, Any]) -> dict[str, Any]:
        """For a file whose saved hyper-parameters are ``params``: where it lacks some of
        today's, the values that describe how its agent learned, for each parameter added
        since whose default does not (the ``_params_added`` of the class and its bases; a
        class whose old meaning depends on other values overrides this). Parameters a file
        lacks and this leaves out get today's default; a new file gets ``{}``."""
        added: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            added.update(vars(klass).get("_params_added", {}))
        return {name: value for name, value in added.items() if name not in params}

    def save(self, path: str | os.PathLike) -> None:
        """Write the agent to one ``.safetensors`` file (atomically; no pickle)."""
        params = self.get_params()
        json_params = {k: v for k, v in params.items() if k not in self._non_json_params and k != "device"}
        state, extra = self._get_state()
        tensors = dict(state)
        tensors["episode_returns"] = np.asarray(self.episode_returns, dtype=np.float64)
        tensors["episode_lengths"] = np.asarray(self.episode_lengths, dtype=np.int64)
        meta = {
            "class": self._name(),
            "hyperparameters": json_params,
            "observation_space": sp.to_json(self.observation_space),
            "action_space": sp.to_json(self.action_space),
            "n_envs": self.n_envs,
            "counters": {"num_timesteps": self.num_timesteps, "num_episodes": self.num_episodes},
            "extra": extra,
        }
        persistence.save(path, tensors, meta)

    @classmethod
    def _from_file(cls, path: str | os.PathLike, tensors: dict[str, np.ndarray], meta: dict[str, Any], env: Any,
                   agent_id: str, **overrides: Any) -> "Agent":
        try:
            obs_space = sp.from_json(meta["observation_space"])
            act_space = sp.from_json(meta["action_space"])
            params = dict(meta["hyperparameters"])
            counters = meta["counters"]
        except (KeyError, TypeError, ValueError) as exc:
            raise persistence.ModelFileError(path, f"the agent metadata is incomplete ({exc})") from None
        if env is not None:
            if isinstance(env, gym.vector.VectorEnv):
                env_obs, env_act = env.single_observation_space, env.single_action_space
            else:
                env_obs, env_act = env.observation_space, env.action_space
            if env_obs != obs_space or env_act != act_space:
                raise SpaceMismatchError(
                    f"model file {str(path)!r} holds a {agent_id} agent for observation space {obs_space} and action "
                    f"space {act_space}, but the environment given has {env_obs} and {env_act}"
                )
        else:
            env = EnvSpaces(obs_space, act_space, int(meta.get("n_envs", 1)))
        params.update(cls._params_before(params))  # a file saved before some of today's parameters existed
        params.update(overrides)
        try:
            agent = cls(env, **params)
        except TypeError as exc:
            raise persistence.ModelFileError(path, f"its hyper-parameters do not fit {agent_id} ({exc})") from None
        agent.agent_id = agent_id
        agent.num_timesteps = int(counters.get("num_timesteps", 0))
        agent.num_episodes = int(counters.get("num_episodes", 0))
        agent.episode_returns = tensors.pop("episode_returns", np.zeros(0)).astype(float).tolist()
        agent.episode_lengths = tensors.pop("episode_lengths", np.zeros(0)).astype(int).tolist()
        agent._reset_seed_used = True
        try:
            agent._set_state(tensors, meta.get("extra", {}))
        except (KeyError, ValueError) as exc:
            raise persistence.ModelFileError(path, f"its arrays do not fit {agent_id} ({exc})") from None
        return agent


def load(path: str | os.PathLike, env: Any = None, **kwargs: Any) -> Agent:
    """Load an agent saved with ``agent.save(path)``.

    The class comes from the registry by the id stored in the file, never from code in the
    file. ``env`` (optional) must have the spaces the agent was trained on. ``kwargs``
    override saved hyper-parameters (for example ``device``).
    """
    from groundup.agents.registry import registry

    tensors, meta = persistence.load(path)
    agent_id = meta.get("class")
    if not isinstance(agent_id, str) or agent_id not in registry:
        raise persistence.ModelFileError(path, f"it holds {agent_id!r}, which is not a registered agent id")
    cls = registry[agent_id].load()
    return cls._from_file(path, tensors, meta, env, agent_id, **kwargs)
