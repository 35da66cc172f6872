"""Several RNN taggers that tag together: a product of experts.

Taggers trained alike but from different random starts make different mistakes, and a
tag sequence all of them score well is more often right than any one tagger's choice.
For CRF taggers the ensemble adds the members' scores of each whole sequence, their
per-token emissions and their transition scores, and finds the best sequence with one
Viterbi pass:

    score(y) = sum_m score_m(y),  so  argmax_y score(y) = argmax_y prod_m p_m(y | x)

since each member's normaliser ``log Z_m`` does not depend on ``y``. For taggers without
a CRF it adds the members' per-token log-probabilities (then BIO-constrained Viterbi for
entity tags, or each token's best tag).

Training is separate from the thing that tags (as gensim keeps ``Word2Vec`` apart from
``KeyedVectors``): :func:`fit_taggers` trains one tagger per seed, each in its own process
when ``n_jobs > 1``. A BiLSTM over a batch of 32 sentences is too small a job to keep
several cores busy (a second thread adds little), so taggers trained side by side, one
per core, finish in about the wall-clock time of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import torch

from groundup.persistence import SaveLoadMixin, StateError
from groundup.nlp._estimator import check_sentences, check_tags
from groundup.nlp._tagger_predict import checked_score, predict_together
from groundup.nlp.tagger import RNNTagger
from groundup.progress import TrainingLog
from groundup.validation import check_positive

__all__ = ["TaggerEnsemble", "fit_taggers"]

_CLASS_ID = "groundup.nlp.TaggerEnsemble"


class TaggerEnsemble(SaveLoadMixin):
    """Fitted :class:`RNNTagger` s that tag as one: ``predict(sentences)``, ``score``.

    ``taggers`` must share their tags (``classes_``) and either all have a CRF layer or
    none. Each member reads the sentences through its own vocabulary, so members may
    differ in anything else (cell, sizes, character encoder).
    """

    def __init__(self, taggers: Sequence[RNNTagger]) -> None:
        taggers = list(taggers)
        if not taggers:
            raise ValueError("TaggerEnsemble needs at least one tagger; got none")
        for i, tagger in enumerate(taggers):
            if not isinstance(tagger, RNNTagger):
                raise TypeError(f"taggers[{i}] must be a fitted RNNTagger; got {type(tagger).__name__}")
            tagger._check_fitted()
            if tagger.classes_ != taggers[0].classes_:
                raise ValueError(f"taggers[{i}] has the tags {tagger.classes_}, taggers[0] has {taggers[0].classes_}; "
                                 "the members must be trained on the same tag set")
            if (tagger.net_.crf is None) != (taggers[0].net_.crf is None):
                raise ValueError(f"taggers[{i}] {'has no' if tagger.net_.crf is None else 'has a'} CRF layer and "
                                 "taggers[0] does not agree; the members must all use crf=True, or all crf=False")
        self.taggers = taggers
        self.classes_ = taggers[0].classes_

    def __len__(self) -> int:
        return len(self.taggers)

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """The tags of every token: one list of tags per sentence."""
        sentences = check_sentences(sentences)
        return predict_together(self.taggers, [tagger._encode(sentences) for tagger in self.taggers], sentences)

    def score(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], *, metric: str = "accuracy") -> float:
        """Token accuracy (``metric="accuracy"``) or seqeval entity F1 (``"f1"``) against ``tags``."""
        return checked_score(self.predict, self.taggers[0], sentences, tags, metric)

    # ----------------------------------------------------------------- persistence
    # save/load are groundup.persistence.SaveLoadMixin's: every member's file state in one
    # file, each member's tensors under "member{m}.", its metadata in "members".
    _class_id = _CLASS_ID
    _load_device = "auto"

    def _header(self) -> dict[str, Any]:
        return {}  # no hyper-parameters of its own: the members carry theirs

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors: dict[str, Any] = {}
        members = []
        for m, tagger in enumerate(self.taggers):
            state, meta = tagger._file_state()
            tensors.update({f"member{m}.{k}": v for k, v in state.items()})
            members.append(meta)
        return tensors, {"members": members}

    @classmethod
    def _upgrade_state(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        """Each member's metadata in the current layout (:meth:`RNNTagger._upgrade_state`)."""
        members = metadata.get("members")
        if not isinstance(members, list):
            return metadata  # _new_for_state refuses it, naming what is wrong
        return {**metadata, "members": [RNNTagger._upgrade_state(m) if isinstance(m, dict) else m for m in members]}

    @classmethod
    def _new_for_state(cls, metadata: dict[str, Any], device: Any) -> TaggerEnsemble:
        """An ensemble of unfitted members with the saved hyper-parameters, on ``device``;
        :meth:`_set_state` fits them with the saved weights and checks them as ``__init__``
        does."""
        members = metadata.get("members")
        if not isinstance(members, list) or not members:
            raise StateError("it names no members")
        ensemble = cls.__new__(cls)
        ensemble.taggers = [RNNTagger._new_for_state(RNNTagger._upgrade_state(member), device) for member in members]
        return ensemble

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        for m, (tagger, member) in enumerate(zip(self.taggers, metadata["members"])):
            prefix = f"member{m}."
            tagger._set_state({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)},
                              RNNTagger._upgrade_state(member))
        self.__init__(self.taggers)  # the members' agreement, as for an ensemble built by hand


def _fit_one(params: dict[str, Any], seed: int, threads: int, sentences: list[list[str]], tags: list[list[str]],
             validation_data: Any, folder: str) -> tuple[str, list[dict[str, Any]], str | None]:
    """Worker: train one tagger and save it (the parent loads it through the safe path);
    returns the file, the tagger's per-epoch log and why its training stopped."""
    torch.set_num_threads(threads)
    tagger = RNNTagger(**dict(params, random_state=seed)).fit(sentences, tags, validation_data=validation_data)
    path = os.path.join(folder, f"member{seed}.safetensors")
    tagger.save(path)
    return path, tagger.training_log_.rows, tagger.training_log_.stop_reason


def fit_taggers(tagger: RNNTagger, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], *,
                seeds: Sequence[int] = (0, 1), validation_data: Any = None, n_jobs: int = 1) -> TaggerEnsemble:
    """Train one copy of ``tagger`` (its parameters, not its weights) per seed in ``seeds``
    (its ``random_state``) and return them as a :class:`TaggerEnsemble`.

    ``n_jobs`` processes train side by side (default 1: one after another, here); each
    process uses ``torch.get_num_threads() // n_jobs`` threads (at least one). ``word_vectors``
    and the other parameters go to every member unchanged. Each member keeps its
    ``training_log_`` (its ``time_s`` column: seconds since that member started).
    """
    if not isinstance(tagger, RNNTagger):
        raise TypeError(f"tagger must be an RNNTagger (its parameters are copied); got {type(tagger).__name__}")
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be distinct integers, at least one; got {seeds!r}")
    check_positive("n_jobs", n_jobs, integer=True)
    params = tagger.get_params(deep=False)
    params.pop("random_state")
    RNNTagger(**params)._check_params()  # bad parameters fail here, not in a worker
    sentences = check_sentences(sentences)
    tags = check_tags(sentences, tags)
    if n_jobs == 1:
        return TaggerEnsemble([RNNTagger(**dict(params, random_state=s)).fit(sentences, tags, validation_data=validation_data)
                               for s in seeds])
    import multiprocessing

    threads = max(1, torch.get_num_threads() // n_jobs)
    with tempfile.TemporaryDirectory() as folder:
        # spawn, not fork: a forked child inherits torch's thread pool in whatever state it is.
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(seeds)), mp_context=multiprocessing.get_context("spawn")) as pool:
            jobs = [pool.submit(_fit_one, params, s, threads, sentences, tags, validation_data, folder) for s in seeds]
            done = [job.result() for job in jobs]
        members = []
        for path, rows, reason in done:
            member = RNNTagger.load(path, device=params["device"])
            member.training_log_ = TrainingLog(0, name="RNNTagger")
            member.training_log_.rows = rows
            member.training_log_.stop_reason = reason
            members.append(member)
        return TaggerEnsemble(members)
