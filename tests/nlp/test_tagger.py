"""RNNTagger: the bidirectional RNN, context in both directions, character features,
gensim vectors, early stopping, persistence, and errors on bad input; TaggerEnsemble:
product-of-experts decoding against brute force, the parallel trainer."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

from groundup.nlp._birnn import BiRNN, length_buckets, reverse_padded
from groundup.nlp import EarlyStoppingWarning, NoLearningWarning
from groundup.nlp._estimator import (MIN_VALIDATION_SIZE, NotFittedError, ValidationMonitor,
                                     warn_if_validation_too_small)
from groundup.nlp.tagger import RNNTagger
from groundup.nlp.tagger_ensemble import TaggerEnsemble, fit_taggers
from groundup.persistence import ModelFileError

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Tiny matrices: one thread is fastest, and immune to a busy machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


FAST = dict(vector_size=16, hidden_size=24, char_vector_size=8, char_filters=16, batch_size=16, random_state=0)


def context_corpus(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Ambiguous words whose tag depends on the word before ("the run" NN, "to run" VB) or
    after ("X left" -> L, "X right" -> R): a tagger that reads each word alone scores ~50%."""
    rng = np.random.default_rng(seed)
    fillers = ["we", "they", "often", "want", "like", "and", "then"]
    ambiguous = ["run", "walk", "book", "fish"]
    sentences, tags = [], []
    for _ in range(n):
        words, labels = [], []
        for _ in range(rng.integers(2, 5)):
            kind = rng.integers(3)
            if kind == 0:
                det = ["the", "to"][rng.integers(2)]
                words += [det, ambiguous[rng.integers(4)]]
                labels += ["DT" if det == "the" else "TO", "NN" if det == "the" else "VB"]
            elif kind == 1:
                side = ["left", "right"][rng.integers(2)]
                words += ["x", side]
                labels += ["L" if side == "left" else "R", "DIR"]
            else:
                words.append(fillers[rng.integers(len(fillers))])
                labels.append("F")
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


def accuracy_on(tagger, sentences, tags, keep) -> float:
    predicted = tagger.predict(sentences)
    pairs = [(p, t) for ps, ts, ws in zip(predicted, tags, sentences) for p, t, w in zip(ps, ts, ws) if w in keep]
    return sum(p == t for p, t in pairs) / len(pairs)


@pytest.fixture(scope="module")
def context_tagger():
    X, y = context_corpus(400, seed=0)
    return RNNTagger(max_iter=15, learning_rate=1e-2, **FAST).fit(X, y)


def test_reverse_padded_reverses_within_each_length():
    x = torch.arange(8).view(2, 4)
    assert reverse_padded(x, torch.tensor([3, 4])).tolist() == [[2, 1, 0, 3], [7, 6, 5, 4]]
    y = torch.randn(3, 5, 2)
    lengths = torch.tensor([5, 1, 3])
    assert torch.equal(reverse_padded(reverse_padded(y, lengths), lengths), y)


@pytest.mark.parametrize("cell, layers", [(torch.nn.LSTM, 1), (torch.nn.GRU, 2)])
def test_birnn_equals_torchs_packed_bidirectional_rnn(cell, layers):
    torch.manual_seed(0)
    ref = cell(5, 7, num_layers=layers, batch_first=True, bidirectional=True)
    ours = BiRNN(cell, 5, 7, layers, dropout=0.0)
    for k in range(layers):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ours.forward_rnns[k], f"{name}_l0").data.copy_(getattr(ref, f"{name}_l{k}"))
            getattr(ours.backward_rnns[k], f"{name}_l0").data.copy_(getattr(ref, f"{name}_l{k}_reverse"))
    x = torch.randn(3, 6, 5)
    lengths = torch.tensor([6, 2, 4])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = torch.nn.utils.rnn.pad_packed_sequence(ref(packed)[0], batch_first=True)
    got = ours(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(got[i, :n], expected[i, :n], atol=1e-6, rtol=1e-5)


def test_length_buckets_cover_every_sentence_once_with_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 60, size=1000)
    batches = length_buckets(lengths, 32, np.random.default_rng(1), pool=10)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 10  # random batches of 32 would spread over ~55
    again = length_buckets(lengths, 32, np.random.default_rng(1), pool=10)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))


@pytest.mark.filterwarnings("ignore::groundup.nlp.EarlyStoppingWarning")  # tiny data on purpose
def test_tagger_uses_left_and_right_context(context_tagger):
    X, y = context_corpus(200, seed=1)
    # Left context decides run/walk/book/fish; right context decides "x".
    assert accuracy_on(context_tagger, X, y, {"run", "walk", "book", "fish"}) >= 0.97
    assert accuracy_on(context_tagger, X, y, {"x"}) >= 0.97
    assert context_tagger.score(X, y) >= 0.97
    assert context_tagger.classes_ == ["DIR", "DT", "F", "L", "NN", "R", "TO", "VB"]


def spelling_corpus(n: int, seed: int):
    """Made-up words whose tag shows only in their spelling: Capitalised -> NNP,
    -ing -> VBG, -ly -> RB, else NN. Test words are new, so the word embedding is <unk>."""
    rng = np.random.default_rng(seed)
    letters = list("bcdfgkmnprstvz")

    def stem() -> str:
        return "".join(rng.choice(letters) + rng.choice(list("aeiou")) for _ in range(2))

    sentences, tags = [], []
    for _ in range(n):
        words, labels = [], []
        for _ in range(rng.integers(3, 7)):
            kind = rng.integers(4)
            word = stem()
            word, tag = [(word.capitalize(), "NNP"), (word + "ing", "VBG"), (word + "ly", "RB"), (word, "NN")][kind]
            words.append(word)
            labels.append(tag)
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


@pytest.mark.filterwarnings("ignore::groundup.nlp.EarlyStoppingWarning")  # tiny data on purpose
@pytest.mark.filterwarnings("ignore::groundup.nlp.NoLearningWarning")  # without characters: nothing to learn
@pytest.mark.parametrize("encoder", ["cnn", "lstm"])
def test_character_features_tag_unknown_words(encoder, tmp_path):
    X, y = spelling_corpus(150, seed=0)
    Xt, yt = spelling_corpus(60, seed=1)
    train_words = {w.lower() for s in X for w in s}
    unseen = {w for s in Xt for w in s if w.lower() not in train_words}
    assert len(unseen) > 200
    with_chars = RNNTagger(max_iter=8, learning_rate=2e-2, char_encoder=encoder, char_hidden_size=8, **FAST).fit(X, y)
    without = RNNTagger(max_iter=8, learning_rate=2e-2, char_features=False, **FAST).fit(X, y)
    assert accuracy_on(with_chars, Xt, yt, unseen) >= 0.95
    assert accuracy_on(without, Xt, yt, unseen) <= 0.5  # only the <unk> vector: one guess for all
    with_chars.save(tmp_path / "chars.safetensors")
    assert RNNTagger.load(tmp_path / "chars.safetensors").predict(Xt) == with_chars.predict(Xt)


def test_char_lstm_joins_the_last_forward_and_first_backward_state():
    from groundup.nlp._char_features import CharLSTM

    torch.manual_seed(0)
    encoder = CharLSTM(n_chars=12, char_vector_size=5, hidden_size=4)
    chars = torch.tensor([[1, 5, 6, 7, 2, 0, 0], [1, 8, 2, 0, 0, 0, 0], [1, 4, 9, 10, 11, 6, 2]])
    got = encoder(chars)
    assert got.shape == (3, 8)
    forward, backward = encoder.rnn.forward_rnns[0], encoder.rnn.backward_rnns[0]
    for row, ids in zip(got, chars):
        x = encoder.embedding(ids[ids != 0]).unsqueeze(0)  # the word alone, no padding
        _, (h_forward, _) = forward(x)
        _, (h_backward, _) = backward(x.flip(1))
        torch.testing.assert_close(row, torch.cat([h_forward[0, 0], h_backward[0, 0]]))


def test_char_cnn_ignores_padding_columns():
    from groundup.nlp._char_features import CharCNN

    torch.manual_seed(0)
    encoder = CharCNN(n_chars=12, char_vector_size=5, char_filters=6)
    chars = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 2, 0, 0]])
    padded = torch.cat([chars, torch.zeros(2, 4, dtype=torch.long)], dim=1)
    torch.testing.assert_close(encoder(chars), encoder(padded), rtol=0, atol=0)


def test_initialises_from_gensim_keyed_vectors():
    X, y = context_corpus(60, seed=0)
    kv = KeyedVectors(16)
    rng = np.random.default_rng(0)
    words = ["The", "the", "run", "unseen", "1999"]
    kv.add_vectors(words, rng.normal(size=(5, 16)).astype(np.float32))
    tagger = RNNTagger(word_vectors=kv, freeze_vectors=True, max_iter=2, **{**FAST, "vector_size": None}).fit(X, y)
    table = tagger.net_.words.weight.detach().numpy()
    index = {w: i for i, w in enumerate(tagger.vocabulary_)}
    # Lower-cased keys: "The" comes first in gensim's order, so it wins over "the".
    np.testing.assert_array_equal(table[index["the"]], kv["The"])
    np.testing.assert_array_equal(table[index["run"]], kv["run"])
    np.testing.assert_array_equal(table[index["unseen"]], kv["unseen"])  # joins the vocabulary
    np.testing.assert_array_equal(table[index["0000"]], kv["1999"])  # digits normalised to 0
    with pytest.raises(ValueError, match=r"vector_size=32 but word_vectors has vectors of size 16"):
        RNNTagger(word_vectors=kv, vector_size=32).fit(X, y)
    with pytest.raises(TypeError, match=r"word_vectors must be a gensim KeyedVectors .* got dict"):
        RNNTagger(word_vectors={"the": [0.0]}).fit(X, y)


def test_early_stopping_keeps_the_best_epoch():
    X, y = context_corpus(200, seed=0)
    Xv, yv = context_corpus(60, seed=2)
    tagger = RNNTagger(max_iter=30, n_iter_no_change=2, learning_rate=3e-2, **FAST).fit(X, y, validation_data=(Xv, yv))
    assert tagger.scoring_ == "accuracy"  # the tags are not BIO
    scores = tagger.training_log_.column("val_accuracy")
    best = int(np.argmax(scores))
    assert tagger.best_score_ == max(scores)
    # patience (2) runs from the best epoch, but never ends training before min_epochs (5)
    assert tagger.n_iter_ == len(scores) and (tagger.n_iter_ == 30 or tagger.n_iter_ == max(best + 1 + 2, 5))
    assert tagger.score(Xv, yv) == pytest.approx(tagger.best_score_)


SIX = ([["the", "cat", "sat"], ["a", "dog", "ran"], ["the", "dog", "sat"], ["a", "cat", "ran"],
        ["the", "bird", "flew"], ["a", "bird", "sat"]], [["DT", "NN", "VB"]] * 6)


def test_early_stopping_on_six_sentences_warns_and_says_why_it_stopped():
    X, y = SIX
    with pytest.warns(EarlyStoppingWarning) as record:
        stopped = RNNTagger(early_stopping=True, **FAST).fit(X, y)
    # Before training: validation_fraction sets aside fewer than 10 sentences; after: early
    # stopping ended training, judging by fewer than 50.
    split, small = (str(w.message) for w in record)
    assert split.startswith("validation_fraction=0.1 sets aside only 1 of the 6 training sentences")
    assert "early_stopping=False" in split and "validation_data=(sentences, tags)" in split
    assert "early_stopping=False" in small and "only 1 sentence" in small and "fewer than 50" in small
    assert [w.filename for w in record] == [__file__] * 2  # both point at the caller's fit
    reason = stopped.training_log_.stop_reason
    assert reason.startswith("early_stopping: no improvement in 3 epochs")
    assert f"after epoch {stopped.n_iter_} of max_iter=30" in reason and 5 <= stopped.n_iter_ < 30
    with warnings.catch_warnings():
        warnings.simplefilter("error", EarlyStoppingWarning)  # what the warning advises: no warning
        full = RNNTagger(early_stopping=False, **FAST).fit(X, y)
    assert full.n_iter_ == 30 and full.training_log_.stop_reason == "max_iter: all 30 epochs ran"
    assert full.score(X, y) == 1.0


@pytest.mark.parametrize("how", ["split", "validation_data"])
def test_early_stopping_on_50_validation_sentences_does_not_warn_on_49_it_does(how):
    X, y = context_corpus(100, seed=0)
    Xv, yv = context_corpus(50, seed=2)
    for n_val in (50, 49):
        tagger = RNNTagger(max_iter=12, n_iter_no_change=1, learning_rate=3e-2, validation_fraction=n_val / 100,
                           early_stopping=True, **FAST)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            if how == "split":  # validation_fraction of 100 sentences set aside
                tagger.fit(X, y)
            else:
                tagger.fit(X, y, validation_data=(Xv[:n_val], yv[:n_val]))
        warned = [w for w in record if issubclass(w.category, EarlyStoppingWarning)]
        assert len(warned) == (n_val < 50), n_val
        reason = tagger.training_log_.stop_reason
        assert reason.startswith("early_stopping: no improvement in 1 epoch; stopped after epoch"), reason
        assert tagger.n_iter_ < 12 and tagger.n_iter_ == len(tagger.training_log_)


def test_the_stop_reason_when_every_epoch_runs():
    X, y = context_corpus(80, seed=0)
    Xv, yv = context_corpus(60, seed=2)
    tagger = RNNTagger(max_iter=3, n_iter_no_change=3, **FAST).fit(X, y, validation_data=(Xv, yv))
    best = int(np.argmax(tagger.training_log_.column("val_accuracy"))) + 1
    assert tagger.n_iter_ == 3
    assert tagger.training_log_.stop_reason.startswith(f"max_iter: all 3 epochs ran, kept epoch {best} (val_accuracy ")


def test_the_small_validation_rule():
    kw = dict(how_to_add="fit(..., validation_data=x)")
    for n, stopped, kept, warns in [(49, True, 2, True), (50, True, 2, False), (1, False, 3, True), (1, False, 5, False),
                                    (10, False, None, True)]:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            warn_if_validation_too_small("M", n, "sentence", stopped_early=stopped, n_epochs=5, kept_epoch=kept,
                                         max_iter=9, **kw)
        assert len(record) == int(warns), (n, stopped, kept)
        if warns:
            assert issubclass(record[0].category, UserWarning) and "early_stopping=False" in str(record[0].message)
            assert MIN_VALIDATION_SIZE == 50 and f"{n} sentence" in str(record[0].message)



# ---------------------------------------------------------------- learning that starts late (issue 21)
def rare_entity_corpus(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """Sentences of 8-13 filler words, 60% of them with one city (``B-LOC``): 95% of the
    tokens are ``O``, so a tagger first learns to tag everything ``O`` (entity F1 0)."""
    rng = np.random.default_rng(seed)
    fillers = [f"w{i}" for i in range(40)]
    cities = ["paris", "rome", "oslo", "lima", "kyiv", "bern"]
    sentences, tags = [], []
    for _ in range(n):
        words = [str(w) for w in rng.choice(fillers, size=rng.integers(8, 14))]
        labels = ["O"] * len(words)
        if rng.random() < 0.6:
            i = rng.integers(len(words))
            words[i], labels[i] = cities[rng.integers(len(cities))], "B-LOC"
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


SLOW_START = dict(FAST, char_features=False)  # without characters the cities take several epochs to stand out


def test_monitor_starts_patience_two_standard_errors_above_a_share_floor():
    """On 10 validation items a score of 0.7 over a floor of 0.5 is luck as often as not:
    patience starts only past 0.5 + 2 * sqrt(0.25 / 10) = 0.816."""
    kw = dict(floor=0.5, floor_what="predicting the label 3 at every root", n_iter_no_change=2, min_epochs=1,
              early_stopping=True)
    small = ValidationMonitor("val_root_accuracy", n_validation=10, **kw)
    assert small.start_margin == pytest.approx(2 * np.sqrt(0.25 / 10))
    for score in (0.7, 0.6, 0.7, 0.6, 0.7):
        small.update(score)
    assert not small.started and not small.stopped_early and not small.at_floor  # above the floor, within the band
    assert small.stop_reason(5) == ("max_iter: all 5 epochs ran, kept epoch 1 (val_root_accuracy 0.7); val_root_accuracy "
                                    "never rose more than 0.316 (two standard errors on 10 validation items) above its "
                                    "floor 0.5 (predicting the label 3 at every root), so early stopping never began")
    for score in (0.9, 0.9, 0.9):
        small.update(score)
    assert small.started and small.stopped_early and small.epochs == 8 and small.best_epoch == 6
    plain = ValidationMonitor("val_f1", **kw)  # not a share (n_validation None): no margin
    plain.update(0.51)
    assert plain.start_margin == 0.0 and plain.started
    many = ValidationMonitor("val_accuracy", n_validation=10_000, **kw)
    assert many.start_margin == pytest.approx(0.01)


@pytest.mark.parametrize("n, expected", [(500, True), (494, False)])
def test_early_stopping_auto_needs_50_validation_sentences(n, expected):
    from groundup.early_stopping import resolve_early_stopping

    assert resolve_early_stopping("auto", 0.1, n, has_validation_data=False) is expected  # round(49.4) = 49
    assert resolve_early_stopping("auto", 0.1, 20, has_validation_data=True) is True
    assert resolve_early_stopping(False, 0.1, 10_000, has_validation_data=True) is False
    X, y = context_corpus(n, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EarlyStoppingWarning)
        tagger = RNNTagger(max_iter=2, min_epochs=1, **FAST).fit(X, y)
    assert tagger.early_stopping_ is expected and ("val_accuracy" in tagger.training_log_.rows[0]) is expected
    if not expected:  # every sentence trained on, for all max_iter epochs
        assert tagger.n_iter_ == 2 and tagger.training_log_.stop_reason == "max_iter: all 2 epochs ran"
    with pytest.raises(ValueError, match=r"early_stopping must be True, False or 'auto'; got 'yes'"):
        RNNTagger(early_stopping="yes").fit(X, y)


def test_monitor_waits_for_the_score_to_leave_its_floor():
    def run(scores, **kw):
        kw = dict(dict(floor=0.0, n_iter_no_change=3, min_epochs=1, early_stopping=True), **kw)
        monitor = ValidationMonitor("val_f1", floor_what="tagging every token 'O'", **kw)
        decays = []
        for score in scores:
            monitor.update(score)
            decays.append(monitor.decay)
            if monitor.stopped_early:
                break
        return monitor, decays

    late = [0.0] * 6 + [0.3, 0.8, 0.8, 0.8, 0.8]
    old, decays = run(late, floor=-np.inf)  # no floor: the rules before issue 21
    assert old.stopped_early and old.epochs == 4 and old.best_score == 0.0 and decays == [False, True, True, True]
    new, decays = run(late)
    assert new.stopped_early and new.epochs == 11 and new.best_epoch == 8 and new.best_score == 0.8
    assert decays == [False] * 8 + [True] * 3  # no decay at the floor, nor on improvement
    assert new.stop_reason(30).startswith("early_stopping: no improvement in 3 epochs; stopped after epoch 11 of "
                                          "max_iter=30, kept epoch 8 (val_f1 0.8)")
    warm, decays = run([0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6], min_epochs=6)
    assert warm.epochs == 6 and warm.stopped_early  # patience ran out at epoch 5; min_epochs holds it to 6
    assert decays == [False] * 6  # the warm-up: no decay in the first min_epochs epochs
    flat, decays = run([0.0] * 20)
    assert not flat.stopped_early and flat.at_floor and not any(decays)
    assert flat.stop_reason(20) == ("max_iter: all 20 epochs ran, kept epoch 1 (val_f1 0); val_f1 never rose above its "
                                    "floor 0 (tagging every token 'O'), so early stopping never began")
    with pytest.warns(NoLearningWarning, match=r"^M: after 20 epochs the best val_f1 is 0, no better than tagging "
                                               r"every token 'O' \(0\): the model has learned nothing useful"):
        flat.warn_if_at_floor("M")


def test_early_stopping_waits_while_every_token_is_tagged_o():
    X, y = rare_entity_corpus(200, seed=0)
    Xv, yv = rare_entity_corpus(60, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoLearningWarning)
        tagger = RNNTagger(max_iter=15, **SLOW_START).fit(X, y, validation_data=(Xv, yv))
    f1 = tagger.training_log_.column("val_f1")
    rates = tagger.training_log_.column("learning_rate")
    at_floor = next(i for i, score in enumerate(f1) if score > 0)
    # The old rules (patience from epoch 1, the rate halved after every epoch without
    # improvement) stopped at epoch 4 here, with F1 0.
    assert at_floor >= 4 and f1[:at_floor] == [0.0] * at_floor
    assert rates[:at_floor + 1] == [2e-3] * (at_floor + 1)  # no decay while the score sits on its floor
    assert tagger.best_score_ >= 0.8 and tagger.score(Xv, yv, metric="f1") == pytest.approx(tagger.best_score_)
    assert tagger.training_log_.stop_reason.startswith(("early_stopping: no improvement in 3 epochs", "max_iter"))


def test_a_tagger_that_never_leaves_its_floor_trains_on_and_warns():
    X, y = rare_entity_corpus(200, seed=0)
    Xv, yv = rare_entity_corpus(60, seed=1)
    tagger = RNNTagger(max_iter=4, n_iter_no_change=1, min_epochs=1, **SLOW_START)
    with pytest.warns(NoLearningWarning) as record:
        tagger.fit(X, y, validation_data=(Xv, yv))
    assert tagger.training_log_.column("val_f1") == [0.0] * 4 and tagger.n_iter_ == 4  # patience 1 did not stop it
    assert tagger.training_log_.column("learning_rate") == [2e-3] * 4
    assert tagger.training_log_.stop_reason == ("max_iter: all 4 epochs ran, kept epoch 1 (val_f1 0); val_f1 never rose "
                                                "above its floor 0 (tagging every token 'O'), so early stopping never began")
    message = str(record[0].message)
    assert message.startswith("RNNTagger: after 4 epochs the best val_f1 is 0, no better than tagging every token 'O'")
    assert "max_iter" in message and "learning_rate" in message and record[0].filename == __file__


def test_the_accuracy_floor_is_the_majority_tags_share():
    X, y = rare_entity_corpus(120, seed=0)
    y = [["N" if t == "O" else "CITY" for t in ts] for ts in y]  # not BIO: scored by token accuracy
    Xv, yv = rare_entity_corpus(40, seed=1)
    yv = [["N" if t == "O" else "CITY" for t in ts] for ts in yv]
    share = sum(t == "N" for ts in yv for t in ts) / sum(map(len, yv))
    with pytest.warns(NoLearningWarning, match=rf"no better than tagging every token 'N' \({share:.4g}\)"):
        # a rate too small to move the starting weights, which tag nearly everything 'CITY'
        tagger = RNNTagger(max_iter=1, learning_rate=1e-5, **SLOW_START).fit(X, y, validation_data=(Xv, yv))
    assert tagger.scoring_ == "accuracy" and tagger.best_score_ <= share
    assert f"val_accuracy never rose above its floor {share:.4g}" in tagger.training_log_.stop_reason


def test_min_epochs_holds_off_stopping_and_decay():
    X, y = context_corpus(200, seed=0)
    Xv, yv = context_corpus(60, seed=2)
    tagger = RNNTagger(max_iter=12, n_iter_no_change=1, min_epochs=8, learning_rate=3e-2, **FAST)
    tagger.fit(X, y, validation_data=(Xv, yv))
    scores, rates = tagger.training_log_.column("val_accuracy"), tagger.training_log_.column("learning_rate")
    best = int(np.argmax(scores)) + 1
    # Learning starts at once here (the floor, tagging every token 'F', scores ~0.3), and
    # with patience 1 the old rules stopped at epoch best + 1, before 8.
    assert scores[0] > 0.5 and best < 7
    assert tagger.n_iter_ >= 8 and rates[:8] == [3e-2] * 8  # no decay in the warm-up
    assert tagger.training_log_.stop_reason.startswith(f"early_stopping: no improvement in 1 epoch; stopped after "
                                                       f"epoch {tagger.n_iter_} of max_iter=12")
    with pytest.raises(ValueError, match=r"min_epochs must be a positive integer; got 0"):
        RNNTagger(min_epochs=0).fit(X, y)


# ---------------------------------------------------------------- bad input (issue 21)
def test_a_single_training_tag_is_an_error():
    X, _ = context_corpus(30, seed=0)
    n_tokens = sum(map(len, X))
    with pytest.raises(ValueError, match=rf"^tags holds a single tag, 'O', on all {n_tokens} tokens; training needs "
                                         r"at least 2 distinct tags"):
        RNNTagger(**FAST).fit(X, [["O"] * len(s) for s in X])


def test_a_tag_seen_only_in_validation_or_test_data():
    X, y = rare_entity_corpus(100, seed=0)
    Xv, yv = rare_entity_corpus(20, seed=1)
    yv[0] = ["B-MISC"] + yv[0][1:]
    yv[1] = ["B-MISC", "I-MISC"] + yv[1][2:]
    with pytest.warns(UserWarning, match=r"^RNNTagger: validation_data\[1\] has the tags 'B-MISC', 'I-MISC' \(3 in "
                                         r"all\) that the training tags never show; .* Give training sentences"):
        tagger = RNNTagger(max_iter=2, **SLOW_START).fit(X, y, validation_data=(Xv, yv))
    assert "B-MISC" in tagger.classes_  # an output exists, so that the validation score is defined
    with pytest.raises(ValueError, match=r"tags\[1\] has the tag 'B-PER', which the tagger never saw in training"):
        tagger.score(Xv[:2], [yv[0], ["B-PER"] + yv[1][1:]])


def test_sentences_of_one_token():
    cities = {"paris", "rome", "oslo", "lima"}
    X = [[w] for w in ["paris", "runs", "the", "rome", "eats", "oslo", "a", "lima", "sits", "of"]] * 12
    y = [["B-LOC" if s[0] in cities else "O"] for s in X]
    for crf in (True, False):
        tagger = RNNTagger(max_iter=10, learning_rate=2e-2, crf=crf, **FAST).fit(X, y)
        assert tagger.predict([["paris"], ["runs"], ["zurich"]])[:2] == [["B-LOC"], ["O"]]
        assert tagger.score(X, y, metric="f1") == 1.0
        assert tagger.predict([["paris", "runs"]]) == [["B-LOC", "O"]]  # longer sentences still work


def test_validation_fraction_leaving_fewer_than_ten_sentences():
    X, y = context_corpus(60, seed=0)
    with pytest.warns(EarlyStoppingWarning, match=r"^validation_fraction=0.1 sets aside only 6 of the 60 training "
                                                  r"sentences for early stopping; fewer than 10 .* Pass "
                                                  r"early_stopping=False \(train for all max_iter epochs\), or "
                                                  r"validation_fraction=0.17 or more, or validation_data"):
        RNNTagger(max_iter=1, early_stopping=True, **FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EarlyStoppingWarning)  # what the warning advises: no warning
        RNNTagger(max_iter=1, validation_fraction=0.17, early_stopping=True, **FAST).fit(X, y)
        RNNTagger(max_iter=1, early_stopping=False, **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"^validation_fraction=0.5 sets aside 1 of the 1 training sentence for early "
                                         r"stopping, which leaves none to train on; pass early_stopping=False"):
        RNNTagger(validation_fraction=0.5, early_stopping=True, **FAST).fit(X[:1], y[:1])


def test_use_ema_keeps_the_moving_average_of_every_step():
    X, y = context_corpus(64, seed=0)
    start, trajectory = [], []  # the weights before the first step, and after every step

    def weights_of(optimizer):
        return [q.detach().clone() for group in optimizer.param_groups for q in group["params"]]

    hooks = [register_optimizer_step_pre_hook(
                 lambda opt, args, kwargs: None if start else start.extend(weights_of(opt))),
             register_optimizer_step_post_hook(
                 lambda opt, args, kwargs: trajectory.append(weights_of(opt)))]
    try:
        tagger = RNNTagger(max_iter=2, early_stopping=False, use_ema=True, ema_momentum=0.9, **FAST).fit(X, y)
    finally:
        for hook in hooks:
            hook.remove()
    assert len(trajectory) == 2 * 4  # 64 sentences in batches of 16, two epochs
    average = start
    for t, weights in enumerate(trajectory, start=1):
        m = min(0.9, (1 + t) / (10 + t))
        average = [m * a + (1 - m) * w for a, w in zip(average, weights)]
    kept = list(tagger.net_.parameters())
    assert len(kept) == len(average)
    for a, q in zip(average, kept):
        torch.testing.assert_close(q.detach(), a, rtol=1e-5, atol=1e-6)
    assert not torch.equal(kept[0].detach(), trajectory[-1][0])  # not simply the last weights
    # ema_momentum=0 averages nothing: the same model as without EMA.
    plain = RNNTagger(max_iter=2, early_stopping=False, **FAST).fit(X, y)
    zero = RNNTagger(max_iter=2, early_stopping=False, use_ema=True, ema_momentum=0.0, **FAST).fit(X, y)
    for a, b in zip(plain.net_.parameters(), zero.net_.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"ema_momentum must be in \[0, 1\); got 1.0"):
        RNNTagger(use_ema=True, ema_momentum=1.0).fit(X, y)


@pytest.mark.filterwarnings("ignore::groundup.nlp.EarlyStoppingWarning")  # tiny data on purpose
def test_scoring_auto_uses_entity_f1_for_bio_tags():
    X = [["Peter", "Smith", "runs"], ["in", "Paris"], ["Paris", "is", "big"]] * 20
    y = [["B-PER", "I-PER", "O"], ["O", "B-LOC"], ["B-LOC", "O", "O"]] * 20
    tagger = RNNTagger(crf=False, max_iter=8, learning_rate=2e-2, early_stopping=True, **FAST).fit(X, y)
    assert tagger.scoring_ == "f1" and "val_f1" in tagger.training_log_.rows[0]
    assert tagger.decoding_ == "bio" and tagger.net_.crf is None
    assert tagger.score(X[:3], y[:3], metric="f1") == pytest.approx(1.0)
    assert tagger.predict([["Smith", "in", "Paris"]])[0][2] == "B-LOC"


def test_same_random_state_same_model_and_save_load_round_trip(tmp_path, context_tagger):
    X, y = context_corpus(80, seed=0)
    a = RNNTagger(max_iter=2, **FAST).fit(X, y)
    b = RNNTagger(max_iter=2, **FAST).fit(X, y)
    assert a.training_log_.column("loss") == b.training_log_.column("loss")
    Xt, _ = context_corpus(50, seed=5)
    path = tmp_path / "tagger.safetensors"
    context_tagger.save(path)
    loaded = RNNTagger.load(path, device="cpu")
    assert loaded.predict(Xt) == context_tagger.predict(Xt)
    assert loaded.get_params()["hidden_size"] == 24 and loaded.classes_ == context_tagger.classes_
    from groundup import persistence

    persistence.save(tmp_path / "other.safetensors", {"w": np.zeros(2)}, {"class": "groundup.nlp.RNTN"})
    with pytest.raises(ModelFileError, match=r"holds a 'groundup.nlp.RNTN'"):
        RNNTagger.load(tmp_path / "other.safetensors")


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_other_cells_and_two_layers_train(cell):
    X, y = context_corpus(100, seed=0)
    tagger = RNNTagger(cell=cell, num_layers=2, max_iter=3, learning_rate=1e-2, **FAST).fit(X, y)
    assert isinstance(tagger.net_.rnn.forward_rnns[1], {"gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell])
    assert tagger.training_log_.column("loss")[-1] < tagger.training_log_.column("loss")[0]


def test_bad_input_errors(context_tagger):
    X, y = context_corpus(20, seed=0)
    with pytest.raises(ValueError, match=r"sentence 1 has \d+ tokens but tags\[1\] has \d+ tags"):
        RNNTagger(**FAST).fit(X, [y[0], y[1][:-1]] + y[2:])
    with pytest.raises(ValueError, match=r"tags has 19 tag sequences but there are 20 sentences"):
        RNNTagger(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"sentences\[2\] is an empty sentence"):
        RNNTagger(**FAST).fit(X[:2] + [[]] + X[3:], y[:2] + [[]] + y[3:])
    with pytest.raises(ValueError, match=r"sentences\[0\] is an empty sentence"):
        context_tagger.predict([[]])
    with pytest.raises(TypeError, match=r"sentences\[0\] must be a list of token strings; got str"):
        context_tagger.predict(["the run"])
    with pytest.raises(TypeError, match=r"sentences\[0\]\[1\] must be a string token; got int"):
        context_tagger.predict([["the", 3]])
    with pytest.raises(ValueError, match=r"tags\[0\] has the tag 'NNP', which the tagger never saw in training"):
        context_tagger.score([["the", "run"]], [["DT", "NNP"]])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        RNNTagger().predict(X)
    with pytest.raises(ValueError, match=r"cell must be one of 'rnn', 'gru', 'lstm'; got 'transformer'"):
        RNNTagger(cell="transformer").fit(X, y)
    with pytest.raises(ValueError, match=r"char_encoder must be 'cnn' or 'lstm'; got 'gru'"):
        RNNTagger(char_encoder="gru").fit(X, y)
    with pytest.raises(ValueError, match=r"char_hidden_size must be a positive integer; got 0"):
        RNNTagger(char_hidden_size=0).fit(X, y)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\); got 1.5"):
        RNNTagger(dropout=1.5).fit(X, y)
    with pytest.raises(TypeError, match=r"validation_data must be a pair"):
        RNNTagger(**FAST).fit(X, y, validation_data=X)
    with pytest.raises(ValueError, match=r"metric must be 'accuracy' or 'f1'; got 'recall'"):
        context_tagger.score(X, y, metric="recall")


def test_bio_viterbi_finds_the_best_well_formed_sequence_by_brute_force():

    from groundup.nlp._bio import bio_transitions, is_bio
    from groundup.nlp._crf import viterbi_decode

    tags = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
    assert is_bio(tags) and not is_bio(["NN", "O"])
    allowed, first = bio_transitions(tags)

    def well_formed(seq):
        prev = "O"
        for t in seq:
            if t.startswith("I-") and prev[2:] != t[2:]:
                return False
            prev = t
        return True

    gen = torch.Generator().manual_seed(0)
    log_probs = torch.log_softmax(torch.randn(6, 4, 5, generator=gen) * 3, dim=-1)
    lengths = torch.tensor([4, 1, 3, 4, 2, 4])
    got = viterbi_decode(log_probs, lengths, allowed, first)
    for b, n in enumerate(lengths.tolist()):
        best = max(
            (seq for seq in itertools.product(range(5), repeat=n) if well_formed([tags[i] for i in seq])),
            key=lambda seq: sum(float(log_probs[b, t, i]) for t, i in enumerate(seq)),
        )
        assert got[b, :n].tolist() == list(best)
    # Each token's own best tag would break the scheme: "O I-PER" becomes a proper entity.
    scores = torch.log(torch.tensor([[[0.05, 0.05, 0.05, 0.05, 0.8], [0.05, 0.3, 0.05, 0.55, 0.05]]]))
    assert [tags[i] for i in scores.argmax(-1)[0].tolist()] == ["O", "I-PER"]
    assert [tags[i] for i in viterbi_decode(scores, torch.tensor([2]), allowed, first)[0].tolist()] == ["O", "B-PER"]


def test_crf_likelihood_and_decoding_match_brute_force():

    from groundup.nlp._crf import CRF

    gen = torch.Generator().manual_seed(1)
    crf = CRF(3)
    with torch.no_grad():
        for param in (crf.transitions, crf.start, crf.end):
            param.copy_(torch.randn(param.shape, generator=gen))
    emissions = torch.randn(2, 4, 3, generator=gen)
    lengths = torch.tensor([4, 2])
    tags = torch.tensor([[0, 2, 1, 1], [2, 0, -100, -100]])

    def score(b, seq):
        s = crf.start[seq[0]] + crf.end[seq[-1]] + sum(emissions[b, t, y] for t, y in enumerate(seq))
        return s + sum(crf.transitions[a, c] for a, c in zip(seq, seq[1:]))

    expected = []
    for b, n in enumerate(lengths.tolist()):
        all_scores = torch.stack([score(b, seq) for seq in itertools.product(range(3), repeat=n)])
        expected.append(torch.logsumexp(all_scores, 0) - score(b, tags[b, :n].tolist()))
        best = max(itertools.product(range(3), repeat=n), key=lambda seq: float(score(b, seq).detach()))
        assert crf.decode(emissions, lengths)[b, :n].tolist() == list(best)
    torch.testing.assert_close(crf.neg_log_likelihood(emissions, tags, lengths), torch.stack(expected).mean())


@pytest.mark.filterwarnings("ignore::groundup.nlp.EarlyStoppingWarning")  # tiny data on purpose
def test_crf_tagger_trains_and_round_trips(tmp_path):
    X = [["Peter", "Smith", "runs"], ["in", "Paris"], ["Paris", "is", "big"]] * 20
    y = [["B-PER", "I-PER", "O"], ["O", "B-LOC"], ["B-LOC", "O", "O"]] * 20
    tagger = RNNTagger(crf=True, max_iter=8, learning_rate=2e-2, **FAST).fit(X, y)
    assert tagger.score(X[:3], y[:3], metric="f1") == pytest.approx(1.0)
    tagger.save(tmp_path / "crf.safetensors")
    loaded = RNNTagger.load(tmp_path / "crf.safetensors")
    torch.testing.assert_close(loaded.net_.crf.transitions, tagger.net_.crf.transitions)
    assert loaded.predict(X[:3]) == y[:3]


# ----------------------------------------------------------------- TaggerEnsemble
@pytest.fixture(scope="module")
def members():
    X, y = context_corpus(60, seed=0)
    # Two epochs only: unsure members, so that they disagree and the sum decides.
    return [RNNTagger(max_iter=2, **dict(FAST, random_state=seed)).fit(X, y) for seed in (0, 1, 2)]


def sequence_scores(tagger: RNNTagger, sentence: list[str], candidates: np.ndarray) -> np.ndarray:
    """The tagger's CRF score of each candidate tag sequence (rows of ``candidates``): its
    unnormalised log-probability."""
    data = tagger._encode([sentence])
    with torch.no_grad():
        emissions = tagger.net_(data["words"], data["cases"], data["forms"], data["form_chars"], data["lengths"])[0].numpy()
    crf = {k: v.detach().numpy() for k, v in tagger.net_.crf.named_parameters()}
    steps = np.arange(len(sentence))
    return (crf["start"][candidates[:, 0]] + crf["end"][candidates[:, -1]] + emissions[steps, candidates].sum(axis=1)
            + crf["transitions"][candidates[:, :-1], candidates[:, 1:]].sum(axis=1))


def test_ensemble_finds_the_sequence_with_the_best_summed_score_by_brute_force(members):
    ensemble = TaggerEnsemble(members)
    sentences, _ = context_corpus(40, seed=7)
    sentences = [s for s in sentences if len(s) <= 5][:8]
    predicted = ensemble.predict(sentences)
    classes = ensemble.classes_
    disagreements = 0
    for sentence, tags in zip(sentences, predicted):
        candidates = np.array(list(itertools.product(range(len(classes)), repeat=len(sentence))))
        total = sum(sequence_scores(m, sentence, candidates) for m in members)
        assert tags == [classes[i] for i in candidates[np.argmax(total)]]
        disagreements += len({tuple(m.predict([sentence])[0]) for m in members}) > 1
    assert disagreements >= 1  # the members do not all agree, so the sum is tested


def test_one_member_tags_as_the_tagger_and_round_trip(members, tmp_path):
    sentences, _ = context_corpus(50, seed=5)
    assert TaggerEnsemble(members[:1]).predict(sentences) == members[0].predict(sentences)
    ensemble = TaggerEnsemble(members)
    ensemble.save(tmp_path / "ensemble.safetensors")
    loaded = TaggerEnsemble.load(tmp_path / "ensemble.safetensors", device="cpu")
    assert len(loaded) == 3 and loaded.predict(sentences) == ensemble.predict(sentences)
    members[0].save(tmp_path / "one.safetensors")
    with pytest.raises(ModelFileError, match=r"holds a 'groundup.nlp.RNNTagger'"):
        TaggerEnsemble.load(tmp_path / "one.safetensors")


def test_ensemble_without_crf_adds_log_probabilities():
    X, y = context_corpus(60, seed=0)
    members = [RNNTagger(crf=False, max_iter=2, **dict(FAST, random_state=seed)).fit(X, y) for seed in (0, 1)]
    sentences, _ = context_corpus(30, seed=7)
    summed = []
    for sentence in sentences:
        total = 0
        for m in members:
            data = m._encode([sentence])
            with torch.no_grad():
                total = total + torch.log_softmax(m.net_(data["words"], data["cases"], data["forms"], data["form_chars"],
                                                             data["lengths"])[0], dim=-1)
        summed.append([members[0].classes_[i] for i in total.argmax(-1).tolist()])
    assert TaggerEnsemble(members).predict(sentences) == summed
    assert summed != members[0].predict(sentences) or summed != members[1].predict(sentences)


def test_fit_taggers_in_two_processes_equals_one_after_another():
    X, y = context_corpus(60, seed=0)
    Xv, yv = context_corpus(20, seed=3)
    params = dict(FAST, max_iter=2)
    serial = fit_taggers(RNNTagger(**params), X, y, seeds=(0, 1), validation_data=(Xv, yv))
    parallel = fit_taggers(RNNTagger(**params), X, y, seeds=(0, 1), validation_data=(Xv, yv), n_jobs=2)
    for a, b in zip(serial.taggers, parallel.taggers):
        for (name, p), q in zip(a.net_.state_dict().items(), b.net_.state_dict().values()):
            torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)
        assert a.n_iter_ == b.n_iter_ and a.best_score_ == b.best_score_
        assert a.training_log_.column("val_accuracy") == b.training_log_.column("val_accuracy")
        assert a.training_log_.stop_reason == b.training_log_.stop_reason  # carried back from the worker
        assert b.training_log_.stop_reason.startswith("max_iter: all 2 epochs ran")
    assert not torch.equal(serial.taggers[0].net_.out.weight, serial.taggers[1].net_.out.weight)


def test_ensemble_bad_input_errors(members):
    X, y = context_corpus(20, seed=0)
    with pytest.raises(ValueError, match="needs at least one tagger; got none"):
        TaggerEnsemble([])
    with pytest.raises(TypeError, match=r"taggers\[1\] must be a fitted RNNTagger; got str"):
        TaggerEnsemble([members[0], "tagger.safetensors"])
    other = RNNTagger(max_iter=1, early_stopping=False, **FAST).fit(X, [(["X", "Y"] * len(s))[: len(s)] for s in X])
    with pytest.raises(ValueError, match=r"taggers\[1\] has the tags \['X', 'Y'\]"):
        TaggerEnsemble([members[0], other])
    no_crf = RNNTagger(max_iter=1, crf=False, **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"taggers\[1\] has no CRF layer"):
        TaggerEnsemble([members[0], no_crf])
    with pytest.raises(ValueError, match=r"sentences\[0\] is an empty sentence"):
        TaggerEnsemble(members).predict([[]])
    with pytest.raises(ValueError, match=r"seeds must be distinct integers, at least one; got \[0, 0\]"):
        fit_taggers(RNNTagger(**FAST), X, y, seeds=(0, 0))
    with pytest.raises(ValueError, match=r"n_jobs must be a positive integer; got 0"):
        fit_taggers(RNNTagger(**FAST), X, y, n_jobs=0)
    with pytest.raises(ValueError, match=r"hidden_size must be a positive integer; got 0"):
        fit_taggers(RNNTagger(hidden_size=0), X, y)
