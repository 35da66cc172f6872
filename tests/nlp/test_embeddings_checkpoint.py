"""Checkpoints of Word2Vec and GloVe: a run SIGKILLed mid-way and resumed ends with exactly
the vectors of an uninterrupted run (workers=1, CPU); other corpora and settings are refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from groundup.nlp import GloVe, Word2Vec
from groundup.nlp import _glove_solvers as solvers
from groundup.nlp._checkpoint import CheckpointMismatchError
from groundup.persistence import ModelFileError, read_metadata

ROOT = Path(__file__).resolve().parents[2]

W2V_KW = dict(vector_size=16, window=3, min_count=1, sample=0, sg=1, seed=3, workers=1, device="cpu", epochs=8)

CHILD = textwrap.dedent("""
    import json, sys, time
    import torch
    torch.set_num_threads(1)
    from groundup.nlp import Word2Vec, _checkpoint
    kwargs, corpus, path = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    save = _checkpoint.EpochCheckpoint.save
    def slow_save(self, *args):  # long enough to be killed mid-run; changes nothing else
        save(self, *args)
        time.sleep(0.4)
    _checkpoint.EpochCheckpoint.save = slow_save
    Word2Vec(**kwargs).fit(corpus_file=corpus, checkpoint_path=path, checkpoint_every=1)
    print("finished")
""")


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _write_corpus(path: Path, n: int = 1200, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        topic = "a" if rng.random() < 0.5 else "b"
        lines.append(" ".join(f"{topic}{k}" for k in rng.integers(0, 15, size=8)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sigkilled_word2vec_resumes_to_bitwise_equal_vectors(tmp_path):
    corpus = _write_corpus(tmp_path / "corpus.txt")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    ckpt = tmp_path / "w2v.ckpt.safetensors"
    env = dict(os.environ, PYTHONPATH=str(ROOT), GROUNDUP_DEVICE="cpu")
    child = subprocess.Popen([sys.executable, str(script), json.dumps(W2V_KW), str(corpus), str(ckpt)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        epoch = 0
        while epoch < 3:
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never reached its third checkpoint"
            time.sleep(0.02)
            if ckpt.exists():
                epoch = read_metadata(ckpt)["epoch"]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    saved = read_metadata(ckpt)
    assert saved["done"] is False and 3 <= saved["epoch"] < W2V_KW["epochs"]  # killed mid-run

    resumed = Word2Vec(**W2V_KW).fit(corpus_file=corpus, checkpoint_path=ckpt)
    uninterrupted = Word2Vec(**W2V_KW).fit(corpus_file=corpus)
    np.testing.assert_array_equal(resumed.wv.vectors, uninterrupted.wv.vectors)
    np.testing.assert_array_equal(resumed.syn1neg_, uninterrupted.syn1neg_)
    assert read_metadata(ckpt)["done"] is True and read_metadata(ckpt)["epoch"] == W2V_KW["epochs"]
    again = Word2Vec(**W2V_KW).fit(corpus_file=corpus, checkpoint_path=ckpt)  # nothing left to do
    np.testing.assert_array_equal(again.wv.vectors, uninterrupted.wv.vectors)


class Crash(Exception):
    pass


@pytest.mark.parametrize("sg", [1, 0])
def test_word2vec_crash_and_resume_in_process(tmp_path, monkeypatch, sg):
    corpus = _write_corpus(tmp_path / "corpus.txt", n=400)
    kw = {**W2V_KW, "sg": sg, "epochs": 4, "compute_loss": True}
    ckpt = tmp_path / "c.safetensors"
    from groundup.nlp import _checkpoint

    save, calls = _checkpoint.EpochCheckpoint.save, []

    def crash_after_two(self, epoch, *args):
        save(self, epoch, *args)
        calls.append(epoch)
        if epoch == 2:
            raise Crash

    monkeypatch.setattr(_checkpoint.EpochCheckpoint, "save", crash_after_two)
    with pytest.raises(Crash):
        Word2Vec(**kw).fit(corpus_file=corpus, checkpoint_path=ckpt, checkpoint_every=2)
    monkeypatch.undo()
    resumed = Word2Vec(**kw).fit(corpus_file=corpus, checkpoint_path=ckpt, checkpoint_every=2)
    plain = Word2Vec(**kw).fit(corpus_file=corpus)
    np.testing.assert_array_equal(resumed.wv.vectors, plain.wv.vectors)
    assert resumed.training_loss_ == plain.training_loss_ and len(plain.training_loss_) == 4
    assert calls == [2]


@pytest.mark.parametrize("solver", ["adagrad", "als", "svd"])
def test_glove_crash_and_resume(tmp_path, monkeypatch, solver):
    corpus = _write_corpus(tmp_path / "corpus.txt", n=300)
    kw = dict(vector_size=8, window=3, min_count=1, epochs=4, seed=2, solver=solver, batch_size=256, device="cpu")
    ckpt = tmp_path / "g.safetensors"
    if solver != "svd":
        name = "adagrad_epoch" if solver == "adagrad" else "als_sweep"
        real, count = getattr(solvers, name), []

        def crash_on_third(*args):
            count.append(1)
            if len(count) == 3:
                raise Crash
            return real(*args)

        monkeypatch.setattr(solvers, name, crash_on_third)
        with pytest.raises(Crash):
            GloVe(**kw).fit(corpus_file=corpus, checkpoint_path=ckpt)
        monkeypatch.undo()
        assert read_metadata(ckpt)["epoch"] == 2
    else:
        GloVe(**kw).fit(corpus_file=corpus, checkpoint_path=ckpt)
        monkeypatch.setattr(solvers, "svd_factors", lambda *a, **k: pytest.fail("the checkpoint holds the factors"))
    resumed = GloVe(**kw).fit(corpus_file=corpus, checkpoint_path=ckpt)
    monkeypatch.undo()
    plain = GloVe(**kw).fit(corpus_file=corpus)
    np.testing.assert_array_equal(resumed.wv.vectors, plain.wv.vectors)
    np.testing.assert_array_equal(resumed.bias_, plain.bias_)
    assert resumed.training_loss_ == plain.training_loss_


def test_a_checkpoint_of_another_run_is_refused_with_the_reason(tmp_path):
    corpus = _write_corpus(tmp_path / "corpus.txt", n=200)
    other = _write_corpus(tmp_path / "other.txt", n=200, seed=1)
    kw = {**W2V_KW, "epochs": 1}
    ckpt = tmp_path / "c.safetensors"
    Word2Vec(**kw).fit(corpus_file=corpus, checkpoint_path=ckpt)
    with pytest.raises(CheckpointMismatchError, match="written while training on another corpus"):
        Word2Vec(**kw).fit(corpus_file=other, checkpoint_path=ckpt)
    with pytest.raises(CheckpointMismatchError, match=r"other settings \(window=3 there, 4 here\)"):
        Word2Vec(**{**kw, "window": 4}).fit(corpus_file=corpus, checkpoint_path=ckpt)
    with pytest.raises(ModelFileError, match="GloVe.checkpoint"):  # another model's checkpoint
        GloVe(min_count=1).fit(corpus_file=corpus, checkpoint_path=ckpt)
    with pytest.raises(ValueError, match="checkpoint_every must be a positive integer; got 0"):
        Word2Vec(**kw).fit(corpus_file=corpus, checkpoint_path=tmp_path / "x", checkpoint_every=0)
    Word2Vec(**{**kw, "device": "cpu"}).fit(corpus_file=corpus, checkpoint_path=ckpt)  # same run: accepted
