"""What the tagger and the tree models share as scikit-learn-style estimators:
``get_params``/``set_params``, ``NotFittedError``, and the checks on sentences and tags
done once at the boundary."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

__all__ = ["NotFittedError", "ParamsMixin", "check_sentences", "check_tags"]

try:  # scikit-learn's error, so that `except NotFittedError` in users' code catches ours
    from sklearn.exceptions import NotFittedError
except ImportError:  # scikit-learn is optional for groundup.nlp

    class NotFittedError(ValueError, AttributeError):  # type: ignore[no-redef]
        """A model was used before ``fit`` (scikit-learn's exception, when it is missing)."""


class ParamsMixin:
    """scikit-learn's ``get_params``/``set_params`` for a class whose ``__init__`` only
    stores its keyword arguments under their own names."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (``deep`` is accepted for scikit-learn's sake)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Any:
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; accepted: {', '.join(sorted(valid))}")
            setattr(self, name, value)
        return self


def check_sentences(sentences: Any, name: str = "sentences") -> list[list[str]]:
    """A list of non-empty token lists, or a ``TypeError``/``ValueError`` naming the culprit."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise TypeError(f"{name} must be a list of sentences, each a list of token strings; got {type(sentences).__name__}")
    if len(sentences) == 0:
        raise ValueError(f"{name} is empty; give at least one sentence")
    out = []
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, str) or not isinstance(sentence, Sequence):
            raise TypeError(
                f"{name}[{i}] must be a list of token strings; got {type(sentence).__name__} "
                f"{sentence!r:.60} (split a text into tokens first)"
            )
        if len(sentence) == 0:
            raise ValueError(f"{name}[{i}] is an empty sentence; every sentence needs at least one token")
        for j, token in enumerate(sentence):
            if not isinstance(token, str):
                raise TypeError(f"{name}[{i}][{j}] must be a string token; got {type(token).__name__} {token!r:.60}")
            if token == "":
                raise ValueError(f"{name}[{i}][{j}] is an empty string; tokens must be non-empty")
        out.append(list(sentence))
    return out


def check_tags(sentences: list[list[str]], tags: Any, name: str = "tags") -> list[list[str]]:
    """Tag sequences aligned with ``sentences``: one per sentence, one string per token."""
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise TypeError(f"{name} must be a list of tag sequences, one per sentence; got {type(tags).__name__}")
    if len(tags) != len(sentences):
        raise ValueError(f"{name} has {len(tags)} tag sequences but there are {len(sentences)} sentences; give one per sentence")
    out = []
    for i, (sentence, ts) in enumerate(zip(sentences, tags)):
        if isinstance(ts, str) or not isinstance(ts, Sequence):
            raise TypeError(f"{name}[{i}] must be a list of tag strings; got {type(ts).__name__}")
        if len(ts) != len(sentence):
            raise ValueError(
                f"sentence {i} has {len(sentence)} tokens but {name}[{i}] has {len(ts)} tags; they must be the same length"
            )
        for j, t in enumerate(ts):
            if not isinstance(t, str) or t == "":
                raise TypeError(f"{name}[{i}][{j}] must be a non-empty tag string; got {t!r}")
        out.append(list(ts))
    return out
