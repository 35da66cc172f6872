"""The agent registry, shaped like Gymnasium's environment registry.

``register(id, entry_point, family, ...)`` records an :class:`AgentSpec`; ``make(id, env,
**kwargs)`` builds the agent; ``registry`` maps ids to specs. Third-party packages add
agents through the entry-point group ``groundup.agents``: each entry point names either an
``Agent`` subclass (registered under the entry point's name) or a function that calls
``register`` itself. Plugins load on first use of the registry, and one that fails to load
is reported with a warning instead of breaking the built-in agents.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from groundup.agents.base import Agent

__all__ = ["AgentSpec", "register", "make", "registry", "spec", "ENTRY_POINT_GROUP", "FAMILIES"]

ENTRY_POINT_GROUP = "groundup.agents"
FAMILIES = ("bandits", "dynamic programming", "Monte Carlo", "temporal difference", "approximation", "deep")


@dataclass
class AgentSpec:
    """What the registry knows about one agent id.

    Attributes
    ----------
    id
        The name passed to :func:`make` (``"q-learning"``).
    entry_point
        ``"module:Class"`` or the class itself; imported on first use.
    family
        One of :data:`FAMILIES` (or a third party's own family name).
    summary
        One line for ``groundup agents``.
    kwargs
        Default keyword arguments :func:`make` passes before the caller's.
    """

    id: str
    entry_point: str | type
    family: str
    summary: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)

    def load(self) -> type["Agent"]:
        """Import and return the agent class."""
        if not isinstance(self.entry_point, str):
            return self.entry_point
        module_name, _, attr = self.entry_point.partition(":")
        try:
            module = importlib.import_module(module_name)
            cls = getattr(module, attr)
        except (ImportError, AttributeError) as exc:
            raise ImportError(f"agent {self.id!r}: cannot load entry point {self.entry_point!r} ({exc})") from exc
        return cls

    @property
    def observation_spaces(self) -> tuple[str, ...]:
        """The observation-space kinds the agent accepts (e.g. ``"Discrete"``)."""
        return tuple(self.load().observation_spaces)

    @property
    def action_spaces(self) -> tuple[str, ...]:
        """The action-space kinds the agent accepts (e.g. ``"Discrete"``, ``"Box"``)."""
        return tuple(self.load().action_spaces)

    @property
    def requires_model(self) -> bool:
        """Whether the agent reads the environment's model ``env.unwrapped.P`` (dynamic programming)."""
        return bool(self.load().requires_model)

    @property
    def is_prediction(self) -> bool:
        """Whether the agent evaluates a given policy (``policy=``) rather than learning to act."""
        return bool(self.load().is_prediction)

    @property
    def search_space(self) -> dict[str, tuple]:
        """The agent class's declared search space for ``groundup tune`` (a copy; may be empty)."""
        return dict(getattr(self.load(), "search_space", None) or {})


class _Registry(dict):
    """``id -> AgentSpec``; loads the ``groundup.agents`` entry points on first access."""

    _plugins_loaded = False

    def _ensure_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        load_plugins()

    def __getitem__(self, key: str) -> AgentSpec:
        self._ensure_plugins()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._ensure_plugins()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._ensure_plugins()
        return super().__iter__()

    def __len__(self) -> int:
        self._ensure_plugins()
        return super().__len__()

    def get(self, key: str, default: Any = None) -> Any:
        self._ensure_plugins()
        return super().get(key, default)

    def keys(self):  # type: ignore[override]
        self._ensure_plugins()
        return super().keys()

    def values(self):  # type: ignore[override]
        self._ensure_plugins()
        return super().values()

    def items(self):  # type: ignore[override]
        self._ensure_plugins()
        return super().items()


registry: _Registry = _Registry()


def register(id: str, entry_point: str | type, family: str, summary: str = "", *, kwargs: dict[str, Any] | None = None,
             override: bool = False) -> AgentSpec:
    """Add an agent to the registry (like ``gymnasium.register``).

    Raises ``ValueError`` for a malformed id or entry point, or an id already taken
    (unless ``override=True``).
    """
    if not isinstance(id, str) or not id or any(c.isspace() for c in id):
        raise ValueError(f"agent id must be a non-empty string without spaces; got {id!r}")
    if isinstance(entry_point, str):
        if entry_point.count(":") != 1 or not all(entry_point.split(":")):
            raise ValueError(f"entry_point must look like 'package.module:ClassName'; got {entry_point!r}")
    elif not isinstance(entry_point, type):
        raise TypeError(f"entry_point must be a 'module:Class' string or a class; got {entry_point!r}")
    if not isinstance(family, str) or not family:
        raise ValueError(f"family must be a non-empty string such as one of {FAMILIES}; got {family!r}")
    if dict.__contains__(registry, id) and not override:
        raise ValueError(f"agent id {id!r} is already registered (pass override=True to replace it)")
    agent_spec = AgentSpec(id=id, entry_point=entry_point, family=family, summary=summary, kwargs=dict(kwargs or {}))
    dict.__setitem__(registry, id, agent_spec)
    return agent_spec


def load_plugins(entry_points: Callable[..., Any] | None = None) -> list[str]:
    """Load the ``groundup.agents`` entry points; returns the ids they added."""
    from groundup.agents.base import Agent

    get = entry_points or importlib.metadata.entry_points
    before = set(dict.keys(registry))
    for ep in get(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if isinstance(obj, type) and issubclass(obj, Agent):
                if not dict.__contains__(registry, ep.name):
                    register(ep.name, obj, getattr(obj, "family", "third party"), (obj.__doc__ or "").strip().split("\n")[0])
            elif callable(obj):
                obj()
            else:
                raise TypeError(f"it is a {type(obj).__name__}, neither an Agent subclass nor a function")
        except Exception as exc:  # a broken plugin must not break the built-in agents
            warnings.warn(f"groundup.agents entry point {ep.name!r} ({ep.value}) failed to load: {exc}", RuntimeWarning, stacklevel=2)
    return sorted(set(dict.keys(registry)) - before)


def spec(id: str) -> AgentSpec:
    """The spec of ``id``; a ``KeyError``-free ``ValueError`` listing the known ids otherwise."""
    if not isinstance(id, str) or id not in registry:
        known = ", ".join(sorted(registry))
        raise ValueError(f"unknown agent id {id!r}; registered ids: {known}")
    return registry[id]


def make(id: str, env: Any, **kwargs: Any) -> "Agent":
    """Build the agent registered as ``id`` for ``env`` (like ``gymnasium.make``)."""
    agent_spec = spec(id)
    cls = agent_spec.load()
    agent = cls(env, **{**agent_spec.kwargs, **kwargs})
    agent.agent_id = agent_spec.id
    return agent
