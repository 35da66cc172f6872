"""groundup tagger train|tag and groundup sentiment train|predict, end to end on tiny files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from groundup.cli import main
from groundup.cli_io import CliFileError
from groundup.cli_tagger import read_tagger_input


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Tiny matrices: one thread is fastest, and immune to a busy machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# A corpus in which every word has one POS tag, and "paris"/"london" are locations.
_LEXICON = {"the": ("DT", "B-NP", "O"), "a": ("DT", "B-NP", "O"), "cat": ("NN", "I-NP", "O"),
            "dog": ("NN", "I-NP", "O"), "sees": ("VBZ", "B-VP", "O"), "likes": ("VBZ", "B-VP", "O"),
            "in": ("IN", "B-PP", "O"), "paris": ("NNP", "B-NP", "B-LOC"), "london": ("NNP", "B-NP", "B-LOC"),
            ".": (".", "O", "O")}


def _sentences(n: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    pick = lambda *words: words[rng.integers(len(words))]  # noqa: E731
    return [[pick("the", "a"), pick("cat", "dog"), pick("sees", "likes"), pick("the", "a"), pick("dog", "cat"),
             "in", pick("paris", "london"), "."] for _ in range(n)]


def _write_conll(path, sentences) -> None:
    lines = ["-DOCSTART- -X- -X- O", ""]
    for s in sentences:
        lines += [" ".join((w, *_LEXICON[w])) for w in s] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def pos_tagger(tmp_path_factory):
    """A tagger trained by the command line on a tiny repetitive corpus, and its files."""
    folder = tmp_path_factory.mktemp("tagger")
    train = folder / "train.txt"
    _write_conll(train, _sentences(40, seed=0))
    model = folder / "pos.safetensors"
    code = main(["tagger", "train", "--train", str(train), "--column", "pos", "--save", str(model), "--epochs", "8",
                 "--hidden-size", "16", "--vector-size", "16", "--learning-rate", "0.02", "--batch-size", "8",
                 "--seed", "0", "--device", "cpu"])
    assert code == 0
    return folder, train, model


def test_tagger_train_then_tag_its_own_training_file(pos_tagger, capsys):
    folder, train, model = pos_tagger
    out = folder / "tagged.txt"
    assert main(["tagger", "tag", str(model), str(train), "--output", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "-DOCSTART- -X- -X- O O"  # document markers are kept, one column longer
    rows = [line.split() for line in lines[1:] if line]
    assert len(rows) == 40 * 8 and all(len(r) == 5 for r in rows)  # the four input columns, then the prediction
    assert [r[4] for r in rows] == [r[1] for r in rows]  # every training token gets its gold POS tag
    assert "tagged 40 sentences (320 tokens)" in capsys.readouterr().err


def test_tagger_tags_plain_text_to_stdout(pos_tagger, tmp_path, capsys):
    _, _, model = pos_tagger
    text = tmp_path / "sentences.txt"
    text.write_text("the dog sees a cat in london .\na cat likes the dog in paris .\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["tagger", "tag", str(model), str(text)]) == 0
    blocks = capsys.readouterr().out.strip().split("\n\n")
    assert len(blocks) == 2
    first = [line.split() for line in blocks[0].splitlines()]
    assert [w for w, _ in first] == "the dog sees a cat in london .".split()
    assert [t for _, t in first] == ["DT", "NN", "VBZ", "DT", "NN", "IN", "NNP", "."]


def test_tagger_train_shows_a_progress_bar_and_restores_the_log_class(tmp_path, capsys):
    import groundup.nlp.tagger as tagger_module
    from groundup.progress import TrainingLog

    train = tmp_path / "train.txt"
    _write_conll(train, _sentences(12, seed=1))
    assert main(["tagger", "train", "--train", str(train), "--valid", str(train), "--column", "ner", "--save",
                 str(tmp_path / "ner.safetensors"), "--epochs", "3", "--hidden-size", "8", "--vector-size", "8",
                 "--no-char-features", "--early-stopping", "off", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "tagger (ner)" in err and "3/3" in err  # the bar reached the last epoch
    assert "RNNTagger (lstm, ner): 12 sentences, 2 tags, 3 epochs, validation f1 " in err
    assert tagger_module.TrainingLog is TrainingLog


def test_tagger_input_formats_are_detected(tmp_path):
    conll = tmp_path / "a.conll"
    conll.write_text("EU NNP\nrejects VBZ\n\nPeter NNP\n", encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text("EU rejects German call\n\nPeter Blackburn\n", encoding="utf-8")
    assert read_tagger_input(conll).sentences == [["EU", "rejects"], ["Peter"]]
    assert read_tagger_input(text).sentences == [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    with pytest.raises(CliFileError, match="a.txt, line 3: 2 columns, but line 1 has 4"):
        read_tagger_input(text, "conll")  # --format overrides the guess


def _tree(label: int, *children) -> str:
    return f"({label} {' '.join(children)})"


def _sentiment_file(path, n: int, seed: int) -> list[int]:
    """Trees '(L (2 the) (L ADJ))' with a positive or negative adjective; returns the root labels."""
    rng = np.random.default_rng(seed)
    roots, lines = [], []
    for _ in range(n):
        label = int(rng.choice([1, 3]))
        adjective = ("dull", "bland", "weak")[rng.integers(3)] if label == 1 else ("good", "fresh", "clever")[rng.integers(3)]
        noun = ("movie", "film")[rng.integers(2)]
        lines.append(_tree(label, _tree(2, "the"), _tree(label, _tree(label, adjective), _tree(2, noun))))
        roots.append(label)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return roots


@pytest.mark.parametrize("kind", ["rnn", "rntn"])
def test_sentiment_train_then_predict_roots_and_all_nodes(tmp_path, kind, capsys):
    from groundup.datasets import parse_sst_tree

    train = tmp_path / "train.txt"
    _sentiment_file(train, 60, seed=0)
    model = tmp_path / f"{kind}.safetensors"
    assert main(["sentiment", "train", "--train", str(train), "--model", kind, "--save", str(model), "--epochs", "30",
                 "--vector-size", "8", "--learning-rate", "0.1", "--batch-size", "8", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert f"{'RNTN' if kind == 'rntn' else 'RecursiveNN'}: 60 trees, labels [1, 2, 3], 30 epochs" in err
    assert "30/30" in err  # the progress bar

    test = tmp_path / "test.txt"
    test_roots = _sentiment_file(test, 20, seed=1)
    assert main(["sentiment", "predict", str(model), str(test), "--score"]) == 0
    done = capsys.readouterr()
    assert [int(x) for x in done.out.split()] == test_roots
    assert "root accuracy 1.0000" in done.err

    out = tmp_path / "nodes.txt"
    assert main(["sentiment", "predict", str(model), str(test), "--all-nodes", "--output", str(out)]) == 0
    predicted = [parse_sst_tree(line) for line in out.read_text(encoding="utf-8").splitlines()]
    gold = [parse_sst_tree(line) for line in test.read_text(encoding="utf-8").splitlines()]
    assert [t.leaves() for t in predicted] == [t.leaves() for t in gold]
    assert [t.label() for t in predicted] == test_roots
    assert [t[0].label() for t in predicted] == [2] * 20  # "the" is neutral everywhere


def test_tagger_input_one_sentence_conll_needs_the_format_flag(tmp_path):
    conll = tmp_path / "one.conll"
    conll.write_text("EU NNP\nrejects VBZ\n", encoding="utf-8")
    assert read_tagger_input(conll).sentences == [["EU", "NNP"], ["rejects", "VBZ"]]  # no blank line: text
    assert read_tagger_input(conll, "conll").sentences == [["EU", "rejects"]]


def test_tagger_learns_the_chunk_column(tmp_path, capsys):
    train = tmp_path / "train.txt"
    _write_conll(train, _sentences(12, seed=2))
    model = tmp_path / "chunk.safetensors"
    assert main(["tagger", "train", "--train", str(train), "--column", "chunk", "--save", str(model), "--epochs", "1",
                 "--hidden-size", "8", "--vector-size", "8", "--no-progress", "--device", "cpu"]) == 0
    assert "RNNTagger (lstm, chunk): 12 sentences, 5 tags, 1 epoch, " in capsys.readouterr().err
    from groundup.nlp import RNNTagger

    assert RNNTagger.load(model).classes_ == ["B-NP", "B-PP", "B-VP", "I-NP", "O"]
