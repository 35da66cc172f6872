"""Word2Vec: the batched updates against a per-pair reference, the windows, the noise,
the schedule, what it learns, gensim interoperability, persistence and bad input."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors
from groundup.nlp import word2vec as w2v_module
from groundup.nlp._keyedvectors import NotFittedError
from groundup.nlp._word2vec_sampling import sentence_aligned_chunks
from groundup.nlp.word2vec import Word2Vec

from groundup.datasets.vocabulary import Vocabulary
from groundup.persistence import ModelFileError


def topic_corpus(n_sentences: int = 1500, seed: int = 0) -> list[list[str]]:
    """Sentences drawn from one of two disjoint 15-word topics: words of a topic co-occur."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_sentences):
        topic = "a" if rng.random() < 0.5 else "b"
        out.append([f"{topic}{k}" for k in rng.integers(0, 15, size=8)])
    return out


def topic_purity(wv: KeyedVectors, topn: int = 5) -> float:
    """Fraction of each word's nearest neighbours that share its topic."""
    hits = [sum(n[0][0] == w[0] for n in wv.most_similar(w, topn=topn)) for w in wv.index_to_key]
    return float(np.mean(hits)) / topn


def _model_state(model: Word2Vec, vocab: Vocabulary, d: int, seed: int = 0) -> None:
    model._init_state(vocab, torch.device("cpu"))
    g = torch.Generator().manual_seed(seed)
    V = len(vocab)
    model._W_in[:V] = torch.randn(V, d, generator=g) * 0.3
    model._W_out[:V] = torch.randn(V, d, generator=g) * 0.3


@pytest.fixture
def tiny_vocab() -> Vocabulary:
    return Vocabulary([f"w{i}" for i in range(7)], [70, 60, 50, 40, 30, 20, 10])


def test_skipgram_step_matches_per_pair_reference(tiny_vocab, monkeypatch):
    d, lr, K = 4, 0.1, 2
    model = Word2Vec(vector_size=d, negative=K, sg=1, seed=0)
    _model_state(model, tiny_vocab, d)
    V = len(tiny_vocab)
    contexts = torch.tensor([[1, 2, 3, V], [0, 4, V, V], [5, 6, 1, 2]])  # V pads a short window
    centres = torch.tensor([0, 3, 4])
    noise = torch.tensor([[5, 6], [3, 2], [1, 1]])  # noise 3 == centre 3: must be skipped
    monkeypatch.setattr(model, "_negatives", lambda shape: noise)
    W_in, W_out = model._W_in.clone().double(), model._W_out.clone().double()
    exp_in, exp_out = W_in.clone(), W_out.clone()
    for b in range(3):
        targets = [(int(centres[b]), 1.0)] + [(int(t), 0.0) for t in noise[b] if t != centres[b]]
        for c in contexts[b].tolist():
            if c == V:
                continue
            for t, label in targets:
                g = (label - torch.sigmoid(W_in[c] @ W_out[t])) * lr
                exp_in[c] += g * W_out[t]
                exp_out[t] += g * W_in[c]
    model._skipgram_step(contexts, centres, lr)
    np.testing.assert_allclose(model._W_in.double().numpy(), exp_in.numpy(), atol=1e-6)
    np.testing.assert_allclose(model._W_out.double().numpy(), exp_out.numpy(), atol=1e-6)
    assert torch.all(model._W_in[V] == 0), "the padding row must stay zero"


@pytest.mark.parametrize("cbow_mean", [1, 0])
def test_cbow_step_matches_per_window_reference(tiny_vocab, monkeypatch, cbow_mean):
    d, lr, K, G = 3, 0.2, 2, w2v_module._NOISE_GROUP
    model = Word2Vec(vector_size=d, negative=K, sg=0, cbow_mean=cbow_mean, seed=0)
    _model_state(model, tiny_vocab, d, seed=1)
    windows = [[2, 1], [0, 1, 1, 5], [1, 5], [1, 6, 3], [5, 6, 3, 4, 4, 0], [4, 2]]  # a word may repeat
    words = torch.tensor([0, 1, 5, 3, 6, 0])
    contexts = torch.tensor([w for window in windows for w in window])
    offsets = torch.tensor(np.cumsum([0] + [len(w) for w in windows[:-1]]))
    n_groups = -(-len(words) // G)
    noise = torch.arange(n_groups * K).view(n_groups, K) % len(tiny_vocab)
    noise[0, 0] = words[0]  # a noise word equal to the centre word is skipped for that centre
    monkeypatch.setattr(model, "_negatives", lambda shape: noise[: shape[0]])
    W_in, W_out = model._W_in.clone().double(), model._W_out.clone().double()
    exp_in, exp_out = W_in.clone(), W_out.clone()
    for k, window in enumerate(windows):
        h = W_in[window].sum(0)
        if cbow_mean:
            h = h / len(window)
        word = int(words[k])
        targets = [(word, 1.0)] + [(int(t), 0.0) for t in noise[k // G] if int(t) != word]
        grad_h = torch.zeros(d, dtype=torch.float64)
        for t, label in targets:
            g = (label - torch.sigmoid(h @ W_out[t])) * lr
            grad_h += g * W_out[t]
            exp_out[t] += g * h
        if not cbow_mean:
            grad_h /= len(window)
        for c in window:
            exp_in[c] += grad_h
    model._cbow_step(words, contexts, offsets, lr)
    np.testing.assert_allclose(model._W_in.double().numpy(), exp_in.numpy(), atol=1e-6)
    np.testing.assert_allclose(model._W_out.double().numpy(), exp_out.numpy(), atol=1e-6)


needs_kernel = pytest.mark.skipif(w2v_module.word2vec_kernel() is None, reason="no C compiler: CBOW runs in torch")


@needs_kernel
@pytest.mark.parametrize("cbow_mean", [1, 0])
def test_cbow_native_kernel_matches_per_window_reference(tiny_vocab, monkeypatch, cbow_mean):
    """The C kernel trains the chunk's centres one after another, in corpus order, each
    with its own noise words: the reference applies the same updates in float64."""
    d, lr, K = 3, 0.2, 2
    model = Word2Vec(vector_size=d, negative=K, sg=0, cbow_mean=cbow_mean, seed=0)
    _model_state(model, tiny_vocab, d, seed=1)
    model._track_loss = True
    model._loss_sum, model._loss_count = 0.0, 0
    ids = np.array([3, 1, 4, 1, 5, 6, 2, 0], dtype=np.int64)
    left = np.array([0, 0, 1, 3, 3, 4, 6, 7])  # positions 6 and 7 have no context: skipped
    right = np.array([2, 2, 2, 4, 5, 5, 6, 7])
    noise = torch.arange(len(ids) * K).view(len(ids), K) % len(tiny_vocab)
    noise[1, 0] = 1  # a noise word equal to the centre word is skipped for that centre
    monkeypatch.setattr(model, "_negatives", lambda shape, gen=None: noise[: shape[0]])
    exp_in, exp_out = model._W_in.clone().double(), model._W_out.clone().double()
    loss = 0.0
    for i in range(6):
        window = [int(ids[p]) for p in range(left[i], right[i] + 1) if p != i]
        h = exp_in[window].sum(0) / (len(window) if cbow_mean else 1)
        word = int(ids[i])
        grad_h = torch.zeros(d, dtype=torch.float64)
        for t, label in [(word, 1.0)] + [(int(t), 0.0) for t in noise[i] if int(t) != word]:
            f = torch.sigmoid(h @ exp_out[t])
            loss -= float(torch.log(f if label else 1 - f))
            g = (label - f) * lr
            grad_h += g * exp_out[t]
            exp_out[t] += g * h
        for c in window:
            exp_in[c] += grad_h / (1 if cbow_mean else len(window))
    model._train_chunk_cbow_native(ids, left, right, 4, lr, torch.device("cpu"), model._rng, model._gen)
    np.testing.assert_allclose(model._W_in.double().numpy(), exp_in.numpy(), atol=1e-6)
    np.testing.assert_allclose(model._W_out.double().numpy(), exp_out.numpy(), atol=1e-6)
    assert model._loss_count == 6 and model._loss_sum == pytest.approx(loss, rel=1e-5)


def test_cbow_chunk_lays_out_the_windows(tiny_vocab, monkeypatch):
    model = Word2Vec(vector_size=2, sg=0, seed=0)
    _model_state(model, tiny_vocab, 2)
    calls = []
    monkeypatch.setattr(model, "_cbow_step", lambda *args: calls.append(args))
    ids = np.array([3, 1, 4, 1, 5, 6, 2])
    left = np.array([0, 0, 1, 3, 3, 4, 6])  # position 6 has no context: skipped
    right = np.array([2, 2, 2, 4, 5, 5, 6])
    model._train_chunk_cbow(ids, left, right, 4, 0.1, torch.device("cpu"), model._rng, model._gen)
    assert len(calls) == 2 and [len(c[0]) for c in calls] == [4, 2]
    pairs = []
    for words, contexts, offsets, _, noise in calls:
        assert noise.shape == (-(-len(words) // w2v_module._NOISE_GROUP), model.negative)
        ends = offsets.tolist()[1:] + [len(contexts)]
        pairs += [(w, contexts[a:b].tolist()) for w, a, b in zip(words.tolist(), offsets.tolist(), ends)]
    # each centre with its window (centre excluded), in the shuffled order the batches use
    expected = [(3, [1, 4]), (1, [3, 4]), (4, [1]), (1, [5]), (5, [1, 6]), (6, [5])]
    assert sorted(pairs) == sorted(expected)


def test_windows_stay_in_sentences_and_reduce_uniformly():
    ids = np.arange(40, dtype=np.int32) % 5
    sentence_ids = np.repeat(np.arange(8), 5)
    corpus = w2v_module.EncodedCorpus(ids, sentence_ids, 40, 8)
    vocab = Vocabulary([f"w{i}" for i in range(5)], [8] * 5)
    model = Word2Vec(window=3, sample=0, seed=3)
    kept, left, right = model._draw_windows(corpus, 0, 40, vocab.keep_probabilities(0), np.random.default_rng(3))
    np.testing.assert_array_equal(kept, ids)  # sample=0 keeps everything
    pos = np.arange(40)
    assert np.all(sentence_ids[left] == sentence_ids) and np.all(sentence_ids[right] == sentence_ids)
    assert np.all(left <= pos) and np.all(right >= pos)
    assert np.all(pos - left <= 3) and np.all(right - pos <= 3)
    # the middle word of a 5-word sentence sees exactly b words each side for b <= 2
    rng = np.random.default_rng(0)
    reach = []
    for _ in range(300):
        _, lft, _ = model._draw_windows(corpus, 0, 40, vocab.keep_probabilities(0), rng)
        reach.append(np.minimum(pos[2::5] - lft[2::5], 2))
    share = np.bincount(np.concatenate(reach), minlength=3) / (300 * 8)
    np.testing.assert_allclose(share, [0, 1 / 3, 2 / 3], atol=0.03)  # b=1 w.p. 1/3, b>=2 w.p. 2/3


def test_subsampling_keeps_words_at_gensim_rate():
    # t = sample * total = 100: "cat" (100 occurrences) is always kept, "the" at gensim's rate
    vocab = Vocabulary(["the", "cat"], [9900, 100])
    ids = np.r_[np.zeros(9900, np.int32), np.ones(100, np.int32)]
    corpus = w2v_module.EncodedCorpus(ids, np.arange(10000) // 10, 10000, 1000)
    model = Word2Vec(sample=0.01, seed=0)
    p = vocab.keep_probabilities(0.01)
    assert p[1] == 1.0 and p[0] == pytest.approx((np.sqrt(9900 / 100) + 1) * 100 / 9900)
    kept, _, _ = model._draw_windows(corpus, 0, 10000, p, np.random.default_rng(0))
    sd = np.sqrt(9900 * p[0] * (1 - p[0]))  # binomial; 4 standard deviations
    assert abs(np.sum(kept == 0) - 9900 * p[0]) < 4 * sd
    assert np.sum(kept == 1) == 100


def test_noise_words_follow_unigram_075():
    vocab = Vocabulary(["a", "b", "c", "d"], [1000, 100, 10, 1])
    model = Word2Vec(negative=5, seed=0)
    model._init_state(vocab, torch.device("cpu"))
    draws = model._negatives((200_000,)).numpy()
    freq = np.bincount(draws, minlength=4) / draws.size
    expected = np.array([1000, 100, 10, 1]) ** 0.75
    expected /= expected.sum()
    tolerance = 4 * np.sqrt(expected * (1 - expected) / draws.size) + 1e-4  # 4 sd of a binomial share
    assert np.all(np.abs(freq - expected) < tolerance), (freq, expected)


def test_learning_rate_decays_linearly():
    model = Word2Vec(alpha=0.05, min_alpha=0.001)
    assert model._learning_rate(0.0) == pytest.approx(0.05)
    assert model._learning_rate(0.5) == pytest.approx(0.0255)
    assert model._learning_rate(1.0) == pytest.approx(0.001)
    # alpha=None starts at word2vec.c's rate for the architecture, and falls to min_alpha.
    assert Word2Vec(sg=1)._learning_rate(0.0) == pytest.approx(0.025)
    assert Word2Vec(sg=0)._learning_rate(0.0) == pytest.approx(0.05)
    assert Word2Vec(sg=0)._learning_rate(1.0) == pytest.approx(0.0001)


def test_chunks_end_at_sentence_ends():
    sentence_ids = np.repeat(np.arange(10), 7)
    chunks = sentence_aligned_chunks(sentence_ids, 20)
    assert chunks[0][0] == 0 and chunks[-1][1] == 70
    for (a, b), (c, _) in zip(chunks[:-1], chunks[1:]):
        assert b == c and sentence_ids[b - 1] != sentence_ids[b]


@pytest.mark.parametrize("sg, kernel", [(1, "torch"), (0, "torch"), pytest.param(0, "native", marks=needs_kernel)])
def test_learns_topics_and_is_reproducible(sg, kernel, monkeypatch):
    if kernel == "torch":
        monkeypatch.setattr(w2v_module, "word2vec_kernel", lambda: None)  # as where no C compiler is found
    corpus = topic_corpus()
    kwargs = dict(vector_size=16, window=3, min_count=1, sample=0, epochs=5, sg=sg, seed=7, batch_size=64 if sg else 128,
                  workers=1)  # workers=1: the documented way to reproducible vectors
    model = Word2Vec(**kwargs).fit(corpus)
    assert model.kernel_ == kernel
    assert isinstance(model.wv, KeyedVectors)
    assert topic_purity(model.wv) >= 0.9
    again = Word2Vec(**kwargs).fit(corpus)
    np.testing.assert_array_equal(model.wv.vectors, again.wv.vectors)
    other = Word2Vec(**{**kwargs, "seed": 8}).fit(corpus)
    assert not np.allclose(model.wv.vectors, other.wv.vectors)


@pytest.mark.filterwarnings("ignore:Word2Vec. workers=3 is more than")  # a 2-core machine runs 3 workers too
@pytest.mark.parametrize("sg", [1, 0])
def test_workers_share_the_chunks_and_still_learn(sg, monkeypatch):
    monkeypatch.setattr(w2v_module, "_CHUNK", 300)  # several chunks for a small corpus
    model = Word2Vec(vector_size=16, window=3, min_count=1, sample=0, epochs=5, sg=sg, seed=7, workers=3,
                     batch_size=64 if sg else 128)
    threads: dict[str, int] = {}
    draw = model._draw_windows

    def counting_draw(*args):
        name = threading.current_thread().name
        threads[name] = threads.get(name, 0) + 1
        return draw(*args)

    monkeypatch.setattr(model, "_draw_windows", counting_draw)
    model.fit(topic_corpus())
    assert len(threads) == 3 and min(threads.values()) >= 5  # every worker trained chunks in every epoch
    assert topic_purity(model.wv) >= 0.9


def test_workers_default_to_the_cores_and_too_many_warn(monkeypatch):
    monkeypatch.setattr(w2v_module, "available_cores", lambda: 3)
    corpus = topic_corpus(200)
    kw = dict(vector_size=8, window=2, min_count=1, epochs=1, seed=0)
    assert Word2Vec(**kw).get_params()["workers"] is None
    assert Word2Vec(**kw).fit(corpus).workers_ == 3
    with pytest.warns(UserWarning, match="workers=5 is more than the 3 cores"):
        assert Word2Vec(workers=5, **kw).fit(corpus).workers_ == 5
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Word2Vec(workers=3, **kw).fit(corpus)  # as many as the cores: no warning


def test_gensim_keyedvectors_api(tmp_path):
    model = Word2Vec(vector_size=12, min_count=1, sample=0, epochs=3, sg=1, seed=1).fit(topic_corpus(400))
    wv = model.wv
    assert len(wv) == 30 and wv.vector_size == 12
    assert wv.get_vecattr(wv.index_to_key[0], "count") == model.vocabulary_.counts[0]
    sims = wv.most_similar("a1", topn=3)
    # gensim's cosines over our vectors: the three largest, exactly, in order
    unit = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    cos = unit @ unit[wv.key_to_index["a1"]]
    cos[wv.key_to_index["a1"]] = -np.inf
    best = np.argsort(-cos)[:3]
    assert [w for w, _ in sims] == [wv.index_to_key[i] for i in best]
    np.testing.assert_allclose([s for _, s in sims], cos[best], rtol=1e-5)
    path = tmp_path / "vectors.txt"
    wv.save_word2vec_format(str(path))
    loaded = KeyedVectors.load_word2vec_format(str(path))
    np.testing.assert_allclose(loaded["b3"], wv["b3"], atol=1e-5)
    with pytest.raises(KeyError, match="not_a_word"):
        wv.most_similar("not_a_word")
    with pytest.raises(KeyError, match="zebra"):
        wv["zebra"]


def test_save_load_round_trip_and_rejects_foreign_files(tmp_path):
    model = Word2Vec(vector_size=8, min_count=1, epochs=2, sg=0, seed=2, alpha=0.03).fit(topic_corpus(300))
    path = tmp_path / "w2v.safetensors"
    model.save(path)
    loaded = Word2Vec.load(path)
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(loaded.syn1neg_, model.syn1neg_)
    assert loaded.wv.index_to_key == model.wv.index_to_key
    assert loaded.get_params() == {**model.get_params(), "device": "auto"}
    assert loaded.corpus_word_count_ == model.corpus_word_count_
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    bad = tmp_path / "tampered.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        Word2Vec.load(bad)
    from groundup import persistence

    persistence.save(tmp_path / "other.safetensors", {"x": np.zeros(2)}, {"class": "groundup.nlp.GloVe"})
    with pytest.raises(ModelFileError, match="Word2Vec"):
        Word2Vec.load(tmp_path / "other.safetensors")


def test_not_fitted():
    with pytest.raises(NotFittedError, match="fit"):
        Word2Vec().wv
    with pytest.raises(NotFittedError):
        Word2Vec().save("never.safetensors")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"vector_size": 0}, ValueError, "vector_size must be a positive integer; got 0"),
        ({"vector_size": -3}, ValueError, "vector_size"),
        ({"vector_size": "100"}, TypeError, "vector_size"),
        ({"window": 0}, ValueError, "window must be a positive integer; got 0"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer; got 0"),
        ({"epochs": 2.5}, TypeError, "epochs"),
        ({"negative": 0}, ValueError, "negative"),
        ({"sg": 2}, ValueError, "sg must be 1"),
        ({"sample": 1.5}, ValueError, "sample"),
        ({"alpha": 0.0}, ValueError, "alpha"),
        ({"min_alpha": 0.5}, ValueError, "min_alpha"),
        ({"seed": -1}, ValueError, "seed"),
        ({"workers": 0}, ValueError, "workers must be a positive integer or None; got 0"),
        ({"device": "tpu"}, ValueError, "device"),
    ],
)
def test_bad_hyperparameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        Word2Vec(min_count=1, **kwargs).fit([["a", "b", "c"]] * 3)


@pytest.mark.parametrize(
    "corpus, error, match",
    [
        ([], ValueError, "sentences is empty"),
        ([[], []], ValueError, "sentences is empty"),
        ([["rare", "words", "only"]], ValueError, "no word reaches min_count=5"),
        ([["ok", 3, "x"]], TypeError, "tokens must be strings; got 3"),
        ([["ok", ["nested"]]], TypeError, "sentence 0"),
        (["a sentence as a string"], TypeError, "sentence 0 is a string"),
        ("just a string", TypeError, "single string"),
        (42, TypeError, "iterable of token lists"),
    ],
)
def test_bad_corpora(corpus, error, match):
    with pytest.raises(error, match=match):
        Word2Vec().fit(corpus)


def test_fit_reads_a_generator_once():
    corpus = topic_corpus(200)
    model = Word2Vec(vector_size=8, min_count=1, epochs=2, seed=0).fit(s for s in corpus)
    assert len(model.wv) == 30 and model.corpus_word_count_ == 1600


# -- gensim's constructor form: Word2Vec(sentences, ...), Word2Vec(corpus_file=...) ---------------
GENSIM_KW = dict(vector_size=12, min_count=1, epochs=2, seed=4, workers=1, device="cpu")


def _assert_same_vectors(a, b):
    assert a.wv.index_to_key == b.wv.index_to_key
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)  # bit for bit
    np.testing.assert_array_equal(a.syn1neg_, b.syn1neg_)


@pytest.mark.parametrize("sg", [0, 1])
def test_gensim_constructor_forms_train_exactly_as_fit(tmp_path, sg):
    corpus = topic_corpus(300, seed=2)
    fitted = Word2Vec(sg=sg, **GENSIM_KW).fit(corpus)
    positional = Word2Vec(corpus, sg=sg, **GENSIM_KW)
    _assert_same_vectors(positional, fitted)
    _assert_same_vectors(Word2Vec(sentences=corpus, sg=sg, **GENSIM_KW), fitted)
    _assert_same_vectors(Word2Vec((s for s in corpus), sg=sg, **GENSIM_KW), fitted)  # read once, as fit does
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in corpus) + "\n", encoding="utf-8")
    _assert_same_vectors(Word2Vec(corpus_file=str(path), sg=sg, **GENSIM_KW), fitted)
    _assert_same_vectors(Word2Vec(corpus_file=path, sg=sg, **GENSIM_KW), fitted)
    _assert_same_vectors(Word2Vec(sg=sg, **GENSIM_KW).fit(corpus_file=path), fitted)
    assert positional.corpus_word_count_ == 300 * 8


def test_gensim_form_from_a_compressed_corpus_file(tmp_path):
    import gzip

    corpus = topic_corpus(200, seed=3)
    path = tmp_path / "corpus.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(" ".join(s) for s in corpus))
    _assert_same_vectors(Word2Vec(corpus_file=path, **GENSIM_KW), Word2Vec(corpus, **GENSIM_KW))


def test_the_corpus_is_not_a_hyper_parameter():
    from sklearn.base import clone

    corpus = topic_corpus(200, seed=1)
    model = Word2Vec(corpus, **GENSIM_KW)
    params = model.get_params()
    assert "sentences" not in params and "corpus_file" not in params
    assert params == Word2Vec(**GENSIM_KW).get_params()
    assert "sentences" not in repr(model)
    copy = clone(model)  # scikit-learn's clone: same hyper-parameters, not fitted, no corpus
    assert copy.get_params() == params
    with pytest.raises(NotFittedError):
        copy.wv  # noqa: B018
    assert not any(value is corpus for value in vars(copy).values())
    assert not any(value is corpus for value in vars(model).values())  # the model does not keep it
    with pytest.raises(ValueError, match="'sentences' is not a parameter"):
        copy.set_params(sentences=corpus)
    copy.set_params(vector_size=6)
    assert copy.fit(corpus).wv.vector_size == 6


def test_gensim_form_errors_name_the_right_form(tmp_path):
    corpus = [["a", "b", "c"]] * 3
    path = tmp_path / "c.txt"
    path.write_text("a b c\n")
    with pytest.raises(TypeError, match="not both"):
        Word2Vec(corpus, corpus_file=path, min_count=1)
    with pytest.raises(TypeError, match="not both"):
        Word2Vec(min_count=1).fit(corpus, corpus_file=path)
    with pytest.raises(TypeError, match=r"keyword: Word2Vec\(sentences, vector_size=50\)"):
        Word2Vec(corpus, 50)  # gensim's second positional argument is corpus_file too
    with pytest.raises(TypeError):
        Word2Vec(corpus, None, 50)  # the hyper-parameters are keyword-only
    with pytest.raises(TypeError, match=r"Word2Vec\(vector_size=100\)"):
        Word2Vec(100)
    with pytest.raises(TypeError, match="pass corpus_file= instead"):
        Word2Vec(str(path))
    with pytest.raises(TypeError, match=r"fit\(corpus_file="):
        Word2Vec().fit()
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        Word2Vec(corpus_file=tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="vector_size"):  # the hyper-parameters are checked before reading
        Word2Vec(corpus, vector_size=0)


@pytest.mark.skipif(__import__("os").name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)], ids=["umask022", "umask077"])
def test_saved_models_and_word_vectors_get_normal_permissions(tmp_path, mask, expected):
    import os

    model = Word2Vec([["a", "b", "c"]] * 5, vector_size=4, min_count=1, epochs=1)
    old = os.umask(mask)
    try:
        model.save(tmp_path / "w2v.safetensors")
        model.wv.save_word2vec_format(str(tmp_path / "vectors.txt"))
        model.wv.save_word2vec_format(str(tmp_path / "vectors.bin"), binary=True)
    finally:
        os.umask(old)
    for name in ("w2v.safetensors", "vectors.txt", "vectors.bin"):
        assert (tmp_path / name).stat().st_mode & 0o7777 == expected, name
