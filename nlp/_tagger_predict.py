"""Tagging and scoring with one fitted RNN tagger or several at once (an ensemble).

The one decoding loop both :class:`groundup.nlp.RNNTagger` and
:class:`groundup.nlp.TaggerEnsemble` use: batches of similar length, every tagger's scores
added, one decoding pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from groundup.nlp._bio import bio_transitions
from groundup.nlp._crf import viterbi_decode
from groundup.nlp._estimator import check_sentences, check_tags
from groundup.validation import check_choice

if TYPE_CHECKING:
    from groundup.nlp.tagger import RNNTagger

__all__ = ["checked_score", "metric_of", "predict_together"]


def metric_of(predicted: list[list[str]], tags: list[list[str]], metric: str) -> float:
    """Token accuracy (``"accuracy"``) or seqeval entity F1 between 0 and 1 (``"f1"``)."""
    if metric == "f1":
        from seqeval.metrics import f1_score

        return float(f1_score(tags, predicted))
    correct = sum(p == t for ps, ts in zip(predicted, tags) for p, t in zip(ps, ts))
    return correct / sum(len(ts) for ts in tags)


@torch.no_grad()
def predict_together(taggers: Sequence[RNNTagger], encoded: Sequence[dict[str, torch.Tensor]],
                     sentences: list[list[str]], batch_size: int = 256) -> list[list[str]]:
    """Tags for ``sentences`` from one fitted tagger, or from several that share their tags
    (:class:`groundup.nlp.TaggerEnsemble`); ``encoded[m]`` is ``sentences`` through
    ``taggers[m]._encode``. The taggers' scores are added and decoded once: CRF emissions
    and transitions (Viterbi); without a CRF, each token's scores, as log-probabilities
    when there are several taggers or BIO decoding (Viterbi) needs them."""
    first = taggers[0]
    device = first.device_
    crf = first.net_.crf is not None
    if crf:
        transitions = sum(t.net_.crf.transitions.to(device) for t in taggers) + first.net_.crf.constraints
        start = sum(t.net_.crf.start.to(device) for t in taggers) + first.net_.crf.first
        end = sum(t.net_.crf.end.to(device) for t in taggers)
    elif first.decoding_ == "bio":
        allowed, first_tags = bio_transitions(first.classes_)
    log_probabilities = not crf and (first.decoding_ == "bio" or len(taggers) > 1)
    form_chars = [data["form_chars"].to(t.device_) for t, data in zip(taggers, encoded)]
    for tagger in taggers:
        tagger.net_.eval()
    out: list[list[str]] = [[] for _ in sentences]
    order = np.argsort([-len(s) for s in sentences], kind="stable")  # similar lengths batch together
    for begin in range(0, len(order), batch_size):
        idx = torch.from_numpy(order[begin : begin + batch_size])
        lengths = encoded[0]["lengths"][idx]
        longest = int(lengths.max())
        total = None
        for tagger, data, chars in zip(taggers, encoded, form_chars):
            batch = [data[k][idx, :longest].to(tagger.device_) for k in ("words", "cases", "forms")]
            scores = tagger.net_(*batch, chars, lengths.to(tagger.device_))
            if log_probabilities:
                scores = torch.log_softmax(scores, dim=-1)
            total = scores.to(device) if total is None else total + scores.to(device)
        lengths = lengths.to(device)
        if crf:
            best = viterbi_decode(total, lengths, transitions, start, end)
        elif first.decoding_ == "bio":
            best = viterbi_decode(total, lengths, allowed, first_tags)
        else:
            best = total.argmax(-1)
        best = best.cpu().numpy()
        for row, i in enumerate(idx.tolist()):
            out[i] = [first.classes_[t] for t in best[row, : len(sentences[i])]]
    return out


def checked_score(predict: Callable[[list[list[str]]], list[list[str]]], tagger: RNNTagger, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]],
                  metric: str) -> float:
    """``metric`` of ``predict(sentences)`` against ``tags``, after the boundary checks
    (``tagger`` knows which tags exist)."""
    check_choice("metric", metric, ("accuracy", "f1"))
    sentences = check_sentences(sentences)
    tags = check_tags(sentences, tags)
    tagger._check_known_tags(tags, "tags")
    return metric_of(predict(sentences), tags, metric)
