"""A bidirectional RNN sequence tagger for part-of-speech tags and BIO named entities.

Each token becomes one input vector: its word embedding (random, or copied from any gensim
``KeyedVectors``), a casing class, and a character-CNN summary of its spelling. A
bidirectional RNN, GRU or LSTM reads the sentence both ways, and a linear layer scores
every tag at every position. A CRF layer (:mod:`groundup.nlp._crf`) adds scores for
neighbouring tags and training maximises the likelihood of the whole gold sequence
(Huang, Xu & Yu, 2015; Lample et al., 2016; Ma & Hovy, 2016); with ``crf=False`` each
token's tag is trained with cross-entropy on its own.

With ``use_ema=True`` the tagger validates and keeps an exponential moving average of
the weights seen along the way (Polyak averaging, as in Keras' ``use_ema``): Adam's last
steps jitter around a minimum, and their average usually sits closer to it.

Batches hold sentences of similar length, padded to the longest one; the RNN's backward
direction reads each sentence from its own last token (:mod:`groundup.nlp._birnn`), so
padding never reaches a real position, and the loss ignores padding positions. Training
stops early when the score on a validation set has not improved for ``n_iter_no_change``
epochs, and the best epoch's weights are kept; that patience, and the learning-rate decay,
wait for learning to start (:class:`groundup.nlp._estimator.ValidationMonitor`).
"""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from groundup.persistence import SaveLoadMixin, load_module_state
from groundup.nlp._bio import is_bio
from groundup.nlp._birnn import length_buckets
from groundup.nlp._char_features import normalize_word
from groundup.nlp._tagger_net import CELLS, CHAR_SPECIALS, TaggerNet, encode
from groundup.nlp._tagger_predict import checked_score, metric_of, predict_together
from groundup.nlp._weight_average import WeightAverage
from groundup.early_stopping import check_early_stopping, resolve_early_stopping
from groundup.nlp._estimator import (ValidationMonitor, check_at_least_two, check_sentences, check_tags,
                                     check_training_classes, split_size, upgrade_params,
                                     warn_if_validation_too_small)
from groundup.progress import TrainingLog
from groundup.torch_utils import make_optimizer, resolve_device, set_seed
from groundup.validation import (check_choice, check_in_interval, check_is_fitted, check_learning_rate, check_positive,
                                 check_seed)

__all__ = ["RNNTagger"]

_CLASS_ID = "groundup.nlp.RNNTagger"
_PAD, _UNK = "<pad>", "<unk>"


@dataclass
class _TrainingRun:
    """What one ``RNNTagger.fit`` carries from epoch to epoch; dropped when ``fit`` returns."""

    columns: dict[str, torch.Tensor]  # the encoded training set, on the device
    form_chars: torch.Tensor
    singletons: torch.Tensor  # which word ids were seen once (candidates for <unk> dropout)
    lengths: np.ndarray
    optimizer: torch.optim.Optimizer
    averaged: WeightAverage | None
    validation: tuple[list[list[str]], list[list[str]]] | None
    val_data: dict[str, torch.Tensor] | None
    monitor: ValidationMonitor  # early stopping and learning-rate decay
    start: float
    loss_fn: nn.Module = field(default_factory=lambda: nn.CrossEntropyLoss(ignore_index=-100))
    best_state: dict[str, torch.Tensor] | None = None

    def swap_averaged(self) -> None:
        """Exchange the live weights and their running average (a no-op without EMA)."""
        if self.averaged is not None:
            self.averaged.swap()


class RNNTagger(SaveLoadMixin, BaseEstimator):
    """Bidirectional RNN/GRU/LSTM tagger: ``fit(sentences, tags)``, ``predict(sentences)``.

    ``sentences`` is a sequence of token sequences (``[["EU", "rejects", ...], ...]``) and
    ``tags`` the aligned tag sequences (PTB part-of-speech tags, or IOB2 entity tags).

    Parameters (defaults in brackets): ``cell`` ("lstm"; or "gru", "rnn");
    ``vector_size`` (word embedding size; 100, or the size of ``word_vectors``);
    ``word_vectors`` (None; any gensim ``KeyedVectors`` to initialise the embeddings from;
    its words join the vocabulary); ``freeze_vectors`` (False: the copied vectors are
    fine-tuned); ``lowercase`` (True: embeddings are keyed by the lower-cased word, digits
    as 0; the casing class keeps the capitalisation); ``min_count`` (1: rarer training
    words share the unknown-word vector); ``char_features`` (True: a character encoder
    over ``char_vector_size`` (30) character embeddings, and a ``case_vector_size`` (8)
    casing embedding); ``char_encoder`` ("cnn": a CNN with ``char_filters`` (50) filters;
    or "lstm": a BiLSTM with ``char_hidden_size`` (25) units per direction);
    ``hidden_size`` (128 units per direction);
    ``num_layers`` (1); ``dropout`` (0.5); ``singleton_unk_prob`` (0.5: a training word seen
    once is replaced by the unknown word with this probability, so the unknown-word vector
    is trained); ``learning_rate`` (2e-3, Adam); ``learning_rate_decay`` (0.5: the
    learning rate is multiplied by this after every epoch whose validation score did not
    improve, once the warm-up is over; 1 keeps it constant); ``batch_size`` (32 sentences);
    ``max_iter`` (30 epochs at most); ``early_stopping`` ("auto": on when
    ``validation_data`` is given or ``validation_fraction`` of the training sentences is
    at least 50 sentences, so from 500; below that every sentence is trained on for
    ``max_iter`` epochs, because fewer than 50 validation sentences pick the kept epoch,
    and halve the rate, by noise; True or False force it, and ``early_stopping_`` says
    which applied), ``validation_fraction``
    (0.1 of the training sentences, when ``fit`` gets no ``validation_data``; setting
    aside fewer than 10 draws an ``EarlyStoppingWarning``), ``n_iter_no_change`` (3 epochs;
    when the validation set has fewer than 50 sentences, too few to judge, and early
    stopping ended training early or kept an earlier epoch, ``fit`` warns with an
    ``EarlyStoppingWarning``: pass ``early_stopping=False`` or more data); ``min_epochs`` (5: the warm-up, as PyTorch
    Lightning's ``Trainer(min_epochs=...)``; early stopping never ends training sooner).

    Early stopping and the learning-rate decay wait for learning to start. Until the
    validation score first rises above its floor (what tagging every token with the most
    common training tag scores: entity F1 0 for all-``O``, the majority tag's share of the
    tokens for accuracy), and during the first ``min_epochs`` epochs, the rate does not decay
    and early stopping does not stop; ``n_iter_no_change`` counts from the first epoch above
    the floor (for token accuracy, clearly above: by two standard errors over the
    validation tokens). The score, not the validation loss, is followed because it is what picks the
    kept epoch, and a loss can rise while the score still climbs. A tagger whose score never
    leaves the floor trains for all ``max_iter`` epochs, and ``fit`` warns with a
    ``NoLearningWarning``. A tag seen only in the validation set draws a ``UserWarning``
    (the tagger cannot learn it); training tags that are all one tag are an error.

    More parameters: ``scoring`` ("auto": entity F1 when every tag is
    ``O``/``B-X``/``I-X``, else token accuracy); ``decoding`` ("auto": for BIO tags the
    best sequence in which every entity starts with ``B-`` (Viterbi), else each token's most
    likely tag; or "bio", "argmax"; only used when ``crf=False``); ``crf`` (True: a
    linear-chain CRF layer scores neighbouring tags, trained on whole tag sequences and
    decoded with Viterbi, BIO-constrained for BIO tags); ``max_grad_norm`` (5.0); ``use_ema`` (False: validate and keep the
    exponential moving average of the weights, updated after every step, instead of the
    last weights) with ``ema_momentum`` (0.999; the first steps use the smaller
    ``(1 + t) / (10 + t)`` after ``t`` steps, so the starting weights are soon forgotten); ``random_state`` (None);
    ``device`` ("auto"); ``verbose`` (0); ``tensorboard_log`` (None: a folder where each epoch's
    row of ``training_log_`` goes as TensorBoard scalars, see :class:`groundup.progress.TrainingLog`).

    Learned attributes: ``vocabulary_`` (words), ``classes_`` (tags), ``scoring_``,
    ``decoding_``, ``best_score_`` (validation score of the kept epoch), ``n_iter_`` (epochs run),
    ``early_stopping_`` (whether early stopping applied),
    ``training_log_`` (one row per epoch, with the epoch's ``learning_rate``; its
    ``stop_reason`` says why training ended: ``"max_iter: ..."``, and whether the score ever
    left its floor, or ``"early_stopping: no improvement in N epochs; ..."``).
    """

    def __init__(
        self,
        *,
        cell: str = "lstm",
        vector_size: int | None = None,
        word_vectors: Any = None,
        freeze_vectors: bool = False,
        lowercase: bool = True,
        min_count: int = 1,
        char_features: bool = True,
        char_vector_size: int = 30,
        char_encoder: str = "cnn",
        char_filters: int = 50,
        char_hidden_size: int = 25,
        case_vector_size: int = 8,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.5,
        singleton_unk_prob: float = 0.5,
        learning_rate: float = 2e-3,
        learning_rate_decay: float = 0.5,
        batch_size: int = 32,
        max_iter: int = 30,
        early_stopping: bool | str = "auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 3,
        min_epochs: int = 5,
        scoring: str = "auto",
        decoding: str = "auto",
        crf: bool = True,
        max_grad_norm: float = 5.0,
        use_ema: bool = False,
        ema_momentum: float = 0.999,
        random_state: int | None = None,
        device: str = "auto",
        tensorboard_log: str | None = None,
        verbose: int = 0,
    ) -> None:
        self.cell = cell
        self.vector_size = vector_size
        self.word_vectors = word_vectors
        self.freeze_vectors = freeze_vectors
        self.lowercase = lowercase
        self.min_count = min_count
        self.char_features = char_features
        self.char_vector_size = char_vector_size
        self.char_encoder = char_encoder
        self.char_filters = char_filters
        self.char_hidden_size = char_hidden_size
        self.case_vector_size = case_vector_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.singleton_unk_prob = singleton_unk_prob
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.min_epochs = min_epochs
        self.scoring = scoring
        self.decoding = decoding
        self.crf = crf
        self.max_grad_norm = max_grad_norm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.random_state = random_state
        self.device = device
        self.tensorboard_log = tensorboard_log
        self.verbose = verbose

    # ----------------------------------------------------------------- parameters
    def _check_params(self) -> dict[str, Any]:
        p = self.get_params(deep=False)
        check_choice("cell", p["cell"], tuple(CELLS))
        check_choice("char_encoder", p["char_encoder"], ("cnn", "lstm"))
        check_choice("scoring", p["scoring"], ("auto", "accuracy", "f1"))
        check_choice("decoding", p["decoding"], ("auto", "bio", "argmax"))
        kv = p["word_vectors"]
        if kv is not None:
            if not (hasattr(kv, "index_to_key") and hasattr(kv, "vectors") and hasattr(kv, "vector_size")):
                raise TypeError(f"word_vectors must be a gensim KeyedVectors (such as model.wv); got {type(kv).__name__}")
            if p["vector_size"] is not None and p["vector_size"] != kv.vector_size:
                raise ValueError(f"vector_size={p['vector_size']} but word_vectors has vectors of size {kv.vector_size}; "
                                 f"leave vector_size=None to use the vectors' size")
            p["vector_size"] = kv.vector_size
        elif p["vector_size"] is None:
            p["vector_size"] = 100
        for name in ("vector_size", "hidden_size", "num_layers", "batch_size", "max_iter", "n_iter_no_change",
                     "min_epochs", "min_count", "char_vector_size", "char_filters", "char_hidden_size", "case_vector_size"):
            check_positive(name, p[name], integer=True)
        for name in ("dropout", "singleton_unk_prob", "ema_momentum"):
            check_in_interval(name, p[name], 0.0, 1.0, high_open=True)
        check_in_interval("validation_fraction", p["validation_fraction"], 0.0, 1.0, low_open=True, high_open=True)
        check_early_stopping(p["early_stopping"])
        check_learning_rate(p["learning_rate"])
        check_in_interval("learning_rate_decay", p["learning_rate_decay"], 0.0, 1.0, low_open=True)
        check_seed(p["random_state"], "random_state")
        return p

    # ----------------------------------------------------------------- encoding
    def _build_vocabulary(self, sentences: Sequence[Sequence[str]], p: dict[str, Any]) -> None:
        counts = Counter(normalize_word(w, p["lowercase"]) for s in sentences for w in s)
        words = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if c >= p["min_count"]]
        known = set(words)
        if p["word_vectors"] is not None:
            for key in p["word_vectors"].index_to_key:
                key = normalize_word(str(key), p["lowercase"])
                if key not in known:
                    known.add(key)
                    words.append(key)
        self.vocabulary_ = [_PAD, _UNK] + words
        self._word_index = {w: i for i, w in enumerate(self.vocabulary_)}
        self._singletons = torch.zeros(len(self.vocabulary_), dtype=torch.bool)
        for w, c in counts.items():
            if c == 1 and w in self._word_index:
                self._singletons[self._word_index[w]] = True
        chars = sorted({c for s in sentences for w in s for c in w})
        self.characters_ = list(CHAR_SPECIALS) + chars
        self._char_index = {c: i for i, c in enumerate(self.characters_)}

    def _encode(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None = None) -> dict[str, torch.Tensor]:
        return encode(sentences, self._word_index, self._char_index, self.lowercase,
                      None if tags is None else (tags, self._tag_index))

    # ----------------------------------------------------------------- training
    def fit(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], *,
            validation_data: tuple[Sequence[Sequence[str]], Sequence[Sequence[str]]] | None = None) -> "RNNTagger":
        """Train on ``sentences`` and their ``tags``; returns ``self``.

        ``validation_data=(sentences, tags)`` is the held-out set for early stopping (such
        as CoNLL's "valid" split); without it, ``validation_fraction`` of the training
        sentences are set aside.
        """
        p = self._check_params()
        sentences = check_sentences(sentences)
        tags = check_tags(sentences, tags)
        check_at_least_two("tags", Counter(t for ts in tags for t in ts), "tag", "token")
        rng = np.random.default_rng(p["random_state"])  # validation split and batch order
        p["early_stopping"] = self.early_stopping_ = resolve_early_stopping(
            p["early_stopping"], p["validation_fraction"], len(sentences), has_validation_data=validation_data is not None)
        split = p["early_stopping"] and validation_data is None
        if split:
            sentences, tags, validation_data = self._split_validation(sentences, tags, p, rng)
        set_seed(p["random_state"])
        self.device_ = resolve_device(p["device"])
        self._build_vocabulary(sentences, p)
        validation = self._check_validation_data(validation_data)
        self._choose_classes(tags, validation, p, split)
        self._params = p
        self._build_net(p)
        run = self._start_training(sentences, tags, validation, p)
        for epoch in range(p["max_iter"]):
            mean_loss = self._train_epoch(run, epoch, rng)
            self.n_iter_ = epoch + 1
            score = self._evaluate(run, epoch) if run.validation is not None else None
            self._log_epoch(run, epoch, mean_loss, score)
            if self._stop_early(run):
                break
        self._finish_training(run)
        return self

    @staticmethod
    def _split_validation(sentences: list[list[str]], tags: list[list[str]], p: dict[str, Any],
                          rng: np.random.Generator) -> tuple[list[list[str]], list[list[str]], tuple[list, list]]:
        """Set a random ``validation_fraction`` of the sentences aside: (sentences, tags, validation_data)."""
        order = rng.permutation(len(sentences))
        n_val = split_size(p["validation_fraction"], len(sentences), "sentence",
                           "validation_data=(sentences, tags)")
        val_idx, train_idx = order[:n_val], order[n_val:]
        validation_data = ([sentences[i] for i in val_idx], [tags[i] for i in val_idx])
        return [sentences[i] for i in train_idx], [tags[i] for i in train_idx], validation_data

    @staticmethod
    def _check_validation_data(validation_data: Any) -> tuple[list[list[str]], list[list[str]]] | None:
        """The checked ``(sentences, tags)`` of the validation set, or None without one."""
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (sentences, tags); "
                            f"got {type(validation_data).__name__}")
        val_sentences = check_sentences(validation_data[0], "validation_data[0]")
        return val_sentences, check_tags(val_sentences, validation_data[1], "validation_data[1]")

    def _choose_classes(self, tags: list[list[str]], validation: tuple[list, list] | None, p: dict[str, Any],
                        split: bool) -> None:
        """``classes_``, and the scoring and decoding that suit them (BIO tags or not);
        warns of tags that only the validation set (``split``: set aside by
        ``validation_fraction``) holds."""
        counts = Counter(t for ts in tags for t in ts)
        self._majority_tag = counts.most_common(1)[0][0]
        tag_set = set(counts)
        if validation is not None:
            # A rare tag seen only in the validation set still gets an output, so that the
            # validation score is defined (that output is never trained up, only down).
            val_counts = Counter(t for ts in validation[1] for t in ts)
            tag_set |= set(val_counts)
            fix = ("They are in the sentences validation_fraction set aside: pass validation_data=(sentences, tags), "
                   "or give more sentences with these tags." if split else
                   "Give training sentences with these tags, or leave them out of the validation data.")
            check_training_classes("RNNTagger", counts, val_counts, kind="tag",
                                   validation_name="the validation set" if split else "validation_data[1]",
                                   fix=fix, stacklevel=4)  # the caller of fit
        self.classes_ = sorted(tag_set)
        self._tag_index = {t: i for i, t in enumerate(self.classes_)}
        bio = is_bio(self.classes_)
        self.scoring_ = ("f1" if bio else "accuracy") if p["scoring"] == "auto" else p["scoring"]
        if p["decoding"] == "bio" and not bio:
            raise ValueError("decoding='bio' needs tags that are all 'O', 'B-TYPE' or 'I-TYPE'; "
                             f"got {', '.join(self.classes_[:8])}{' ...' if len(self.classes_) > 8 else ''}")
        self.decoding_ = ("bio" if bio else "argmax") if p["decoding"] == "auto" else p["decoding"]

    def _build_net(self, p: dict[str, Any]) -> None:
        self.net_ = TaggerNet(len(self.vocabulary_), p["vector_size"], len(self.characters_), p, self.classes_,
                              self.decoding_ == "bio")
        self._copy_word_vectors(p)
        self.net_.to(self.device_)

    def _start_training(self, sentences: list[list[str]], tags: list[list[str]],
                        validation: tuple[list, list] | None, p: dict[str, Any]) -> _TrainingRun:
        """Encode both sets, and make the optimizer, the weight average and an empty log."""
        data = self._encode(sentences, tags)
        form_chars = data["form_chars"].to(self.device_)
        singletons = self._singletons.to(self.device_)
        # fused: one kernel for every tensor's update instead of a loop of small ops per
        # tensor (Adam was 13% of an epoch on a CPU, mostly the embedding table's update).
        optimizer = make_optimizer([q for q in self.net_.parameters() if q.requires_grad], "adam",
                                   learning_rate=p["learning_rate"],
                                   optimizer_kwargs={"fused": self.device_.type in ("cpu", "cuda")})
        averaged = WeightAverage(self.net_.parameters(), p["ema_momentum"]) if p["use_ema"] else None
        columns = {k: data[k].to(self.device_) for k in ("words", "cases", "forms", "lengths", "tags")}
        val_data = self._encode(validation[0]) if validation is not None else None
        self.training_log_ = TrainingLog(p["verbose"], name="RNNTagger", tensorboard_log=p["tensorboard_log"])
        self.best_score_ = -np.inf
        return _TrainingRun(columns, form_chars, singletons, data["lengths"].numpy(), optimizer, averaged,
                            validation, val_data, self._monitor(validation, p), start=time.perf_counter())

    def _monitor(self, validation: tuple[list, list] | None, p: dict[str, Any]) -> ValidationMonitor:
        """The early-stopping rules, with the floor of this validation set: the score of
        tagging every token with the most common training tag."""
        floor, n_tokens = 0.0, None
        if validation is not None:
            floor = metric_of([[self._majority_tag] * len(s) for s in validation[0]], validation[1], self.scoring_)
            n_tokens = sum(map(len, validation[0]))
        # token accuracy is a share of the validation tokens (F1 is not a share: its margin is 0)
        return ValidationMonitor("val_" + self.scoring_, floor, f"tagging every token {self._majority_tag!r}",
                                 p["n_iter_no_change"], p["min_epochs"], p["early_stopping"],
                                 n_validation=n_tokens if self.scoring_ == "accuracy" else None)

    def _train_epoch(self, run: _TrainingRun, epoch: int, rng: np.random.Generator) -> float:
        """One pass over the training sentences in batches of similar length; the mean loss per sentence."""
        total = 0.0
        for b, index in enumerate(length_buckets(run.lengths, self._params["batch_size"], rng)):
            loss = float(self._train_step(run, torch.from_numpy(index).to(self.device_)).detach())
            if not math.isfinite(loss):  # a diverged model must not be returned as trained
                raise FloatingPointError(f"RNNTagger.fit: the loss became {loss} at epoch {epoch + 1}, "
                                         f"batch {b + 1}; lower learning_rate")
            total += loss * len(index)
        return total / len(run.lengths)

    def _train_step(self, run: _TrainingRun, index: torch.Tensor) -> torch.Tensor:
        """One Adam step on the sentences ``index``, trimmed to the longest of them."""
        p = self._params
        lengths = run.columns["lengths"][index]
        longest = int(lengths.max())
        words, cases, forms, y = (run.columns[k][index, :longest] for k in ("words", "cases", "forms", "tags"))
        if p["singleton_unk_prob"] > 0:
            drop = run.singletons[words] & (torch.rand(words.shape, device=words.device) < p["singleton_unk_prob"])
            words = words.masked_fill(drop, 1)  # 1 = <unk>
        self.net_.train()
        scores = self.net_(words, cases, forms, run.form_chars, lengths)
        if self.net_.crf is not None:
            loss = self.net_.crf.neg_log_likelihood(scores, y, lengths)
        else:
            loss = run.loss_fn(scores.reshape(-1, scores.shape[-1]), y.reshape(-1))
        run.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.net_.parameters(), p["max_grad_norm"])
        run.optimizer.step()
        if run.averaged is not None:
            run.averaged.update()
        return loss

    def _evaluate(self, run: _TrainingRun, epoch: int) -> float:
        """The validation score; keeps the best epoch's weights, or lowers the learning
        rate if no better and the warm-up is over (``run.monitor``'s rules)."""
        val_sentences, val_tags = run.validation
        run.swap_averaged()  # validate (and keep) the averaged weights
        score = metric_of(self._predict_encoded(run.val_data, val_sentences), val_tags, self.scoring_)
        if run.monitor.update(score):
            self.best_score_ = score
            run.best_state = copy.deepcopy(self.net_.state_dict())
        run.swap_averaged()  # training goes on from the live weights
        if run.monitor.decay:
            # Smaller steps once progress stalls: Adam at a fixed rate keeps
            # bouncing around the optimum it has found.
            for group in run.optimizer.param_groups:
                group["lr"] *= self._params["learning_rate_decay"]
        return score

    def _log_epoch(self, run: _TrainingRun, epoch: int, mean_loss: float, score: float | None) -> None:
        row: dict[str, Any] = {"epoch": epoch + 1, "loss": mean_loss}
        if score is not None:
            row["val_" + self.scoring_] = score
        row["time_s"] = round(time.perf_counter() - run.start, 2)
        row["learning_rate"] = run.optimizer.param_groups[0]["lr"]
        self.training_log_.append(**row)

    @staticmethod
    def _stop_early(run: _TrainingRun) -> bool:
        return run.monitor.stopped_early

    def _finish_training(self, run: _TrainingRun) -> None:
        """Keep the best epoch's weights, record why training stopped, and warn if the validation set was small."""
        p = self._params
        if run.best_state is not None:
            self.net_.load_state_dict(run.best_state)
        else:
            run.swap_averaged()  # no validation: the averaged weights are the model
        self.net_.eval()
        monitor = run.monitor
        self.training_log_.stop(monitor.stop_reason(p["max_iter"]))
        if p["early_stopping"]:
            warn_if_validation_too_small("RNNTagger", len(run.validation[0]), "sentence",
                                         stopped_early=monitor.stopped_early, n_epochs=self.n_iter_,
                                         kept_epoch=monitor.best_epoch, max_iter=p["max_iter"],
                                         how_to_add="fit(..., validation_data=(sentences, tags))",
                                         stacklevel=4)  # the caller of fit, one frame above this method
        monitor.warn_if_at_floor("RNNTagger", stacklevel=4)

    def _copy_word_vectors(self, p: dict[str, Any]) -> None:
        kv = p["word_vectors"]
        if kv is None:
            return
        table = self.net_.words.weight.data
        seen = set()
        for key in kv.index_to_key:  # gensim orders keys by frequency: the first spelling wins
            idx = self._word_index[normalize_word(str(key), p["lowercase"])]
            if idx not in seen:
                seen.add(idx)
                table[idx] = torch.tensor(np.asarray(kv[key]), dtype=table.dtype)
        self.net_.words.weight.requires_grad_(not p["freeze_vectors"])

    def _check_known_tags(self, tags: Sequence[Sequence[str]], name: str) -> None:
        for i, ts in enumerate(tags):
            for t in ts:
                if t not in self._tag_index:
                    raise ValueError(f"{name}[{i}] has the tag {t!r}, which the tagger never saw in training; "
                                     f"known tags: {', '.join(self.classes_)}")

    # ----------------------------------------------------------------- inference
    def _check_fitted(self) -> None:
        check_is_fitted(self, "net_", hint="call fit(sentences, tags) or RNNTagger.load(path)")

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """The tags of every token: one list of tags per sentence."""
        self._check_fitted()
        sentences = check_sentences(sentences)
        return self._predict_encoded(self._encode(sentences), sentences)

    def _predict_encoded(self, data: dict[str, torch.Tensor], sentences: list[list[str]]) -> list[list[str]]:
        return predict_together([self], [data], sentences)

    def score(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], *, metric: str = "accuracy") -> float:
        """Token accuracy (``metric="accuracy"``) or entity-level F1 with seqeval
        (``metric="f1"``, conlleval's definition, between 0 and 1) against ``tags``."""
        self._check_fitted()
        return checked_score(self.predict, self, sentences, tags, metric)

    # ----------------------------------------------------------------- persistence
    # save/load are groundup.persistence.SaveLoadMixin's; a file holds the weights, the
    # vocabulary and the hyper-parameters, and loads on the loading machine's device by default.
    _class_id = _CLASS_ID
    _load_device = "auto"

    def _header(self) -> dict[str, Any]:
        """The hyper-parameters as fit resolved them (``vector_size`` from the word vectors,
        which are not saved: their rows are in the weights)."""
        self._check_fitted()
        params = {k: v for k, v in self._params.items() if k != "word_vectors"}
        params["word_vectors"] = None
        return {"params": params}

    @classmethod
    def _upgrade_state(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        return super()._upgrade_state(upgrade_params(metadata))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        self._check_fitted()
        return self.net_.state_dict(), {
            "vocabulary": self.vocabulary_, "characters": self.characters_,
            "classes": self.classes_, "scoring": self.scoring_, "decoding": self.decoding_, "best_score": float(self.best_score_),
            "n_iter": self.n_iter_, "early_stopping": bool(self.early_stopping_),
        }

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        p = self._params = self._check_params()
        self.vocabulary_, self.characters_, self.classes_ = metadata["vocabulary"], metadata["characters"], metadata["classes"]
        self._word_index = {w: i for i, w in enumerate(self.vocabulary_)}
        self._char_index = {c: i for i, c in enumerate(self.characters_)}
        self._tag_index = {t: i for i, t in enumerate(self.classes_)}
        self.scoring_, self.decoding_ = metadata["scoring"], metadata["decoding"]
        self.best_score_, self.n_iter_ = metadata["best_score"], metadata["n_iter"]
        # files from before early_stopping="auto" were trained with the switch as given
        self.early_stopping_ = bool(metadata.get("early_stopping", p["early_stopping"]))
        self.device_ = resolve_device(self.device)
        self.net_ = TaggerNet(len(self.vocabulary_), p["vector_size"], len(self.characters_), p, self.classes_,
                              self.decoding_ == "bio")
        load_module_state(self.net_, tensors)
        self.net_.to(self.device_).eval()
