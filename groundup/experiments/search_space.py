"""Search spaces and parameters files for :func:`groundup.experiments.tune`.

An agent class declares ``search_space`` beside its defaults in a declarative form
(``("log_uniform", low, high)``, ``("categorical", [choices])``, ...); this module alone
checks a declaration and turns it into Optuna's ``trial.suggest_*`` calls, so agents never
import a tuner. The best parameters of a study are written as a JSON parameters file that
``groundup train --params-file`` reads back through :func:`read_params_file`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


__all__ = ["SPACE_KINDS", "SearchSpaceError", "ParamsFileError", "check_search_space", "read_params_file"]

SPACE_KINDS = ("uniform", "log_uniform", "int", "log_int", "categorical")
_RESERVED = ("env", "seed", "verbose", "device", "policy")


class SearchSpaceError(ValueError):
    """A search-space declaration (an agent's ``search_space`` or ``tune(search_space=)``) is malformed."""


class ParamsFileError(ValueError):
    """A parameters file for ``groundup train --params-file`` cannot be used."""


# -- search spaces ---------------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_search_space(space: Any, agent: type | None = None, *, where: str | None = None) -> dict[str, tuple]:
    """Check a search-space declaration and return it normalised (``name -> tuple``).

    Accepted entries, ``name -> spec``:

    - ``("uniform", low, high)`` and ``("log_uniform", low, high)``: a float (``0 < low``
      for the log scale), ``low < high``;
    - ``("int", low, high)`` and ``("log_int", low, high)``: an integer in [low, high];
    - ``("categorical", [choice, ...])``: one of at least two distinct JSON values (lists
      such as ``net_arch`` choices included).

    With ``agent`` (an agent class) every name must be one of its ``__init__``
    hyper-parameters. Raises :class:`SearchSpaceError` naming the entry and what is wrong.
    """
    owner = where or (f"{getattr(agent, 'agent_id', '') or getattr(agent, '__name__', 'agent')}.search_space"
                      if agent is not None else "search_space")
    if not isinstance(space, Mapping):
        raise SearchSpaceError(f"{owner} must be a dict mapping hyper-parameter names to specs such as "
                               f"('log_uniform', 1e-3, 1.0); got {type(space).__name__} {space!r}")
    accepted = None
    if agent is not None:
        accepted = [n for n in agent._param_names() if n not in _RESERVED]
    out: dict[str, tuple] = {}
    for name, spec in space.items():
        entry = f"{owner}[{name!r}]"
        if not isinstance(name, str) or not name.isidentifier():
            raise SearchSpaceError(f"{owner}: names must be hyper-parameter names (str); got {name!r}")
        if name in _RESERVED:
            raise SearchSpaceError(f"{entry}: {name!r} cannot be searched (seeds are the trials' own, the "
                                   f"environment is the study's)")
        if accepted is not None and name not in accepted:
            raise SearchSpaceError(f"{entry}: {name!r} is not a hyper-parameter of {agent.__name__}; "
                                   f"its hyper-parameters are {', '.join(accepted)}")
        if not isinstance(spec, (tuple, list)) or not spec or spec[0] not in SPACE_KINDS:
            raise SearchSpaceError(f"{entry} = {spec!r}: a spec is a tuple whose first item is one of {SPACE_KINDS}, "
                                   f"e.g. ('uniform', 0.0, 0.3) or ('categorical', [32, 64])")
        kind = spec[0]
        if kind == "categorical":
            if len(spec) != 2 or not isinstance(spec[1], (list, tuple)):
                raise SearchSpaceError(f"{entry} = {spec!r}: write ('categorical', [choice, ...])")
            choices = list(spec[1])
            try:
                encoded = [json.dumps(c, sort_keys=True, allow_nan=False) for c in choices]
            except (TypeError, ValueError):
                raise SearchSpaceError(f"{entry}: categorical choices must be JSON values (numbers, strings, "
                                       f"booleans, None, lists); got {choices!r}") from None
            if len(choices) < 2:
                raise SearchSpaceError(f"{entry}: a categorical spec needs at least two choices; got {choices!r} "
                                       f"(a single value is a fixed parameter, not a search)")
            if len(set(encoded)) != len(encoded):
                raise SearchSpaceError(f"{entry}: categorical choices repeat; got {choices!r}")
            out[name] = (kind, choices)
            continue
        if len(spec) != 3:
            raise SearchSpaceError(f"{entry} = {spec!r}: write ({kind!r}, low, high)")
        low, high = spec[1], spec[2]
        integer = kind in ("int", "log_int")
        is_ok = (lambda v: isinstance(v, int) and not isinstance(v, bool)) if integer else _is_number
        if not (is_ok(low) and is_ok(high)):
            what = "integers" if integer else "finite numbers"
            raise SearchSpaceError(f"{entry} = {spec!r}: low and high must be {what}")
        if not low < high:
            raise SearchSpaceError(f"{entry} = {spec!r}: low must be below high")
        if kind.startswith("log_") and low <= 0:
            raise SearchSpaceError(f"{entry} = {spec!r}: a log scale needs 0 < low")
        out[name] = (kind, low, high)
    return out


def _scalar_choices(choices: Sequence[Any]) -> bool:
    return all(c is None or isinstance(c, (bool, int, float, str)) for c in choices)


def _suggest(trial: Any, space: Mapping[str, tuple]) -> dict[str, Any]:
    """The agent keyword arguments for ``trial``: ``trial.suggest_*`` per entry. Categorical
    choices that Optuna cannot store (lists) are suggested as their JSON text and decoded."""
    params: dict[str, Any] = {}
    for name, spec in space.items():
        kind = spec[0]
        if kind in ("uniform", "log_uniform"):
            params[name] = trial.suggest_float(name, spec[1], spec[2], log=kind == "log_uniform")
        elif kind in ("int", "log_int"):
            params[name] = trial.suggest_int(name, spec[1], spec[2], log=kind == "log_int")
        elif _scalar_choices(spec[1]):
            params[name] = trial.suggest_categorical(name, list(spec[1]))
        else:
            params[name] = json.loads(trial.suggest_categorical(name, [json.dumps(c, sort_keys=True) for c in spec[1]]))
    return params


# -- the parameters file -------------------------------------------------------------------------------------
def read_params_file(path: str | os.PathLike, agent: str | None = None) -> dict[str, Any]:
    """The agent keyword arguments in a parameters file.

    The file is the one :func:`tune` writes (``{"agent": ..., "params": {...}, ...}``) or a
    plain JSON object of hyper-parameters. With ``agent`` (an id), a file written for
    another agent, or naming something that is not one of its hyper-parameters, is refused.
    Raises ``FileNotFoundError`` or :class:`ParamsFileError`, naming the file.
    """
    where = f"params file {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsFileError(f"{where} cannot be read ({exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamsFileError(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ParamsFileError(f"{where} must hold a JSON object of hyper-parameters (or `groundup tune`'s "
                              f"{{\"agent\": ..., \"params\": {{...}}}}); it holds a {type(doc).__name__}")
    params = doc["params"] if "params" in doc else doc
    if not isinstance(params, dict):
        raise ParamsFileError(f"{where}: 'params' must be a JSON object of hyper-parameters; got {params!r}")
    if agent is not None:
        tuned_for = doc.get("agent") if "params" in doc else None
        if tuned_for is not None and tuned_for != agent:
            raise ParamsFileError(f"{where} holds parameters tuned for agent {tuned_for!r}, not {agent!r}")
        from groundup.agents import spec

        cls = spec(agent).load()
        accepted = cls._param_names()
        unknown = [k for k in params if k not in accepted]
        if unknown:
            raise ParamsFileError(f"{where}: {', '.join(map(repr, unknown))} "
                                  f"{'is not a hyper-parameter' if len(unknown) == 1 else 'are not hyper-parameters'} "
                                  f"of {agent}; its hyper-parameters are {', '.join(accepted)}")
    return dict(params)
