"""Joining Ray: a local instance on all cores, or an existing cluster at an address, with
a fast, clear failure when nothing listens there. :mod:`groundup.experiments.engine`
(``sweep``) and :mod:`groundup.experiments.tune` connect through :func:`connect`.

Ray is imported here only when a connection is asked for, never by ``import groundup``.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ClusterConnectionError", "connect", "shutdown", "code_paths"]


class ClusterConnectionError(ConnectionError):
    """No Ray cluster answers at the address given."""


# -- connection -------------------------------------------------------------------------------------------------
_connected: dict[str, Any] = {}


def _probe(address: str, timeout: float = 10.0) -> None:
    """Fail fast (not Ray's long retry loop) when nothing listens at host:port."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address {address!r} is not 'auto', 'host:port' or 'ray://host:port'")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ClusterConnectionError(
            f"no Ray cluster at {address!r}: cannot connect to {host}:{port} ({exc}). Start one with "
            f"`ray start --head --port {port}`, or leave address out to start a local Ray"
        ) from None


def code_paths(function: Callable[..., Any] | str) -> list[str]:
    """Folders the workers need on sys.path: the driver's working folder and the one the
    function's top-level package lives in (e.g. the repository root for benchmarks.*)."""
    paths = [os.getcwd()]
    module_name = function.partition(":")[0] if isinstance(function, str) else getattr(function, "__module__", "")
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if file:
        root = Path(file).resolve().parent
        for _ in module_name.split(".")[1:]:
            root = root.parent
        paths.append(str(root))
    return list(dict.fromkeys(paths))


def connect(address: str | None = None, *, code_paths: Sequence[str] = ()) -> Any:
    """Start or join Ray and return the module.

    ``address=None`` starts a local Ray on all cores unless ``$RAY_ADDRESS`` is set;
    ``"auto"`` joins the cluster already running on the local machine; ``"host:port"`` or
    ``"ray://host:port"`` joins that cluster. An address where nothing listens raises
    :class:`ClusterConnectionError` within seconds.
    """
    try:
        import ray
    except ImportError:
        raise ImportError("groundup.experiments needs Ray: pip install 'groundup[experiments]'") from None
    if address is None:
        address = os.environ.get("RAY_ADDRESS") or None
    if address is not None and not isinstance(address, str):
        raise TypeError(f"address must be None, 'auto', 'host:port' or 'ray://host:port', got {address!r}")
    target = address or "local"
    if ray.is_initialized():
        if _connected.get("address") == target or (not _connected and address is None):
            return ray  # already there, or the caller's own ray.init(): use it
        ray.shutdown()
    if address not in (None, "auto"):
        _probe(address)
    pythonpath = os.pathsep.join(list(code_paths) + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    kwargs: dict[str, Any] = dict(runtime_env={"env_vars": {"PYTHONPATH": pythonpath}}, logging_level="WARNING",
                                  log_to_driver=False)
    try:
        if address is None:
            ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except ConnectionError as exc:
        raise ClusterConnectionError(f"cannot join the Ray cluster at {address!r}: {exc}") from None
    _connected["address"] = target
    return ray


def shutdown() -> None:
    """Stop (or leave) the Ray instance :func:`connect` started or joined."""
    try:
        import ray
    except ImportError:  # pragma: no cover
        return
    if ray.is_initialized():
        ray.shutdown()
    _connected.clear()
