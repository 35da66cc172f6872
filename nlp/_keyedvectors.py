"""What Word2Vec and GloVe share: parameter handling, the gensim ``KeyedVectors`` they
expose as ``.wv``, the corpus arguments, and saving/loading through groundup.persistence.

Training and querying are kept apart as in gensim: the model object holds the
hyper-parameters and training state; ``model.wv`` is a real
``gensim.models.KeyedVectors``, so ``most_similar``, ``evaluate_word_analogies``,
``evaluate_word_pairs`` and ``save_word2vec_format`` are gensim's own.

Both models take the corpus the two ways their users know: gensim's, as the first
constructor argument (``Word2Vec(sentences, vector_size=50)``, ``Word2Vec(sentences=...)``,
``Word2Vec(corpus_file="corpus.txt")``), which trains at once; and scikit-learn's,
``Word2Vec(vector_size=50).fit(sentences)``. The corpus is data, not a hyper-parameter:
it is left out of ``get_params``, so ``sklearn.base.clone`` and ``set_params`` see only
the hyper-parameters, and a clone is an unfitted model that does not hold the corpus.
"""

from __future__ import annotations

import inspect
import numbers
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from groundup.persistence import SaveLoadMixin, StateError
from groundup.datasets.vocabulary import Vocabulary
from groundup.validation import NotFittedError, check_int, check_is_fitted, check_seed

__all__ = ["EmbeddingModel", "NotFittedError", "keyed_vectors"]


def keyed_vectors(words: list[str], vectors: np.ndarray, counts: np.ndarray | None = None) -> Any:
    """A ``gensim.models.KeyedVectors`` holding ``vectors`` (one row per word, float32);
    ``counts`` become gensim's ``count`` attribute (what ``most_similar`` does not need but
    ``save_word2vec_format`` and frequency-sorted users do)."""
    from gensim.models import KeyedVectors

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    # Filled directly rather than through add_vectors, which copies row by row and (in
    # gensim 4.4) mishandles its ``extras`` argument.
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(kv.index_to_key)}
    kv.vectors = vectors
    kv.norms = None
    if counts is not None:
        kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
        kv.expandos["count"][:] = np.asarray(counts, dtype=np.int64)
    return kv


class EmbeddingModel(SaveLoadMixin, BaseEstimator):
    """Base of the word-embedding models: scikit-learn's parameter protocol, ``.wv``,
    ``save``/``load``. Subclasses set ``_class_id`` and fill ``self._wv`` in ``fit``."""

    _class_id = "groundup.nlp.EmbeddingModel"

    #: Constructor arguments that are training data (gensim's), not hyper-parameters.
    _corpus_args = ("sentences", "corpus_file")

    # -- scikit-learn's parameter protocol (BaseEstimator's), less the corpus ---------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The hyper-parameters: every ``__init__`` argument but the corpus."""
        return [name for name in super()._get_param_names() if name not in cls._corpus_args]

    def _validate(self) -> None:
        """The checks of the hyper-parameters both models have; each adds its own."""
        check_int("vector_size", self.vector_size, minimum=1)
        check_int("window", self.window, minimum=1)
        check_int("min_count", self.min_count, minimum=1)
        check_int("max_final_vocab", self.max_final_vocab, minimum=1, allow_none=True)
        check_seed(self.seed, "seed")

    # -- the corpus, gensim's way or scikit-learn's -----------------------------------------
    def _fit_if_given(self, sentences: Any, corpus_file: Any) -> None:
        """gensim's habit: a corpus given to the constructor is trained on at once, exactly
        as ``fit`` would (same vectors for the same seed). Called last in ``__init__``,
        after every hyper-parameter is stored; the corpus itself is not kept."""
        if sentences is not None or corpus_file is not None:
            self.fit(sentences, corpus_file=corpus_file)

    def _corpus(self, sentences: Any, corpus_file: Any) -> Iterable[Any]:
        """The sentences to train on, from exactly one of ``sentences`` (an iterable of
        token lists) and ``corpus_file`` (a UTF-8 text file, one sentence per line, tokens
        split on whitespace, streamed and checked by
        :class:`groundup.datasets.corpus_file.CorpusFile`: lines past 10,000 tokens are
        split as gensim splits them, and a missing, empty or binary file or non-UTF-8
        bytes raise an error naming the file, the line and the byte offset)."""
        name = type(self).__name__
        if corpus_file is not None and not isinstance(corpus_file, (str, os.PathLike)):
            raise TypeError(
                f"corpus_file must be the path of a text file, one sentence per line; got {corpus_file!r:.60} "
                f"of type {type(corpus_file).__name__}. As in gensim, {name}'s first two arguments are "
                f"sentences and corpus_file; pass the hyper-parameters by keyword: {name}(sentences, vector_size=50)"
            )
        if sentences is not None and corpus_file is not None:
            raise TypeError(f"{name}: give either sentences (token lists) or corpus_file (a path), not both")
        if corpus_file is not None:
            from groundup.datasets.corpus_file import CorpusFile

            return CorpusFile(corpus_file)
        if sentences is None:
            raise TypeError(
                f"{name}.fit needs a corpus: fit(sentences), with sentences an iterable of token lists, "
                "or fit(corpus_file='corpus.txt')"
            )
        if isinstance(sentences, numbers.Number):
            raise TypeError(
                f"sentences must be an iterable of token lists; got the number {sentences!r}. As in gensim, "
                f"{name}'s first argument is the corpus; pass hyper-parameters by keyword: {name}(vector_size={sentences!r})"
            )
        if isinstance(sentences, (str, os.PathLike)):
            raise TypeError(
                f"sentences must be an iterable of token lists (e.g. [['the', 'cat'], ...]); got a single string "
                f"({str(sentences)!r:.60}). To train on a text file, one sentence per line, pass corpus_file= instead"
            )
        return sentences

    def set_params(self, **params: Any) -> EmbeddingModel:
        for name in params:
            if name in self._corpus_args:
                raise ValueError(
                    f"{name!r} is not a parameter of {type(self).__name__}: the corpus is data, not a hyper-parameter; "
                    f"pass it to fit(). Valid parameters: {', '.join(self._get_param_names())}"
                )
        return super().set_params(**params)

    def __repr__(self) -> str:
        """Every hyper-parameter, in the constructor's order (gensim users read them all)."""
        names = set(self._get_param_names())
        order = [name for name in inspect.signature(type(self).__init__).parameters if name in names]
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in order)})"

    # -- the trained vectors ----------------------------------------------------------------
    @property
    def wv(self) -> Any:
        """The trained word vectors, a ``gensim.models.KeyedVectors``."""
        check_is_fitted(self, "_wv", hint="call fit(sentences) before using .wv")
        return self._wv

    def _check_fitted(self) -> None:
        self.wv  # noqa: B018 - raises NotFittedError when not fitted

    # -- persistence: groundup.persistence.SaveLoadMixin's save/load --------------------------
    # A file is portable: its params say device="auto", and load picks the loading machine's
    # device unless told otherwise. Use ``save_word2vec_format`` on ``.wv`` for the
    # text/binary format other tools read.
    _load_device = "auto"

    def _header(self) -> dict[str, Any]:
        self._check_fitted()
        return {"params": {**self.get_params(deep=False), "device": "auto"}}

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The vocabulary and vectors; subclasses add their training state (arrays, and
        attributes ending in ``_`` in the metadata, restored as attributes)."""
        self._check_fitted()
        return {"vectors": self.wv.vectors, "counts": self.vocabulary_.counts}, {"words": self.vocabulary_.words}

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        words = list(metadata["words"])
        vectors, counts = tensors["vectors"], tensors["counts"]
        if vectors.ndim != 2 or vectors.shape[0] != len(words) or counts.shape != (len(words),):
            raise StateError(f"{len(words)} words but vectors of shape {vectors.shape} and counts of shape {counts.shape}")
        self.vocabulary_ = Vocabulary(words, counts)
        self._wv = keyed_vectors(words, vectors, counts)
        for key, value in metadata.items():
            if key.endswith("_") and not key.startswith("_"):
                setattr(self, key, value)
