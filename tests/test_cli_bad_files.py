"""Bad files given to the family commands: one line on stderr naming the file and the line,
exit status 2, no traceback; and every command's --help shows a worked example."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.cli import main


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def _fails(argv: list[str], capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err  # one line, no traceback
    return err


def _tagger_train(path, tmp_path) -> list[str]:
    return ["tagger", "train", "--train", str(path), "--column", "pos", "--save", str(tmp_path / "m.safetensors")]


def test_tagger_train_missing_empty_and_wrong_columns(tmp_path, capsys):
    missing = tmp_path / "nope.txt"
    assert _fails(_tagger_train(missing, tmp_path), capsys) == f"groundup tagger: CoNLL file {str(missing)!r} does not exist\n"
    empty = _write(tmp_path / "empty.txt", "")
    assert _fails(_tagger_train(empty, tmp_path), capsys) == f"groundup tagger: {empty}: the file is empty; expected a CoNLL file\n"
    bad = _write(tmp_path / "bad.txt", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nGerman JJ B-NP\n")
    err = _fails(_tagger_train(bad, tmp_path), capsys)
    assert err.startswith(f"groundup tagger: {bad}, line 4: expected 4 columns (word POS chunk NER), got 3")
    blank = _write(tmp_path / "blank.txt", "-DOCSTART- -X- -X- O\n\n")
    assert _fails(_tagger_train(blank, tmp_path), capsys) == f"groundup tagger: {blank}: no sentences (only blank or -DOCSTART- lines)\n"
    assert not (tmp_path / "m.safetensors").exists()


def test_tagger_tag_bad_columns_and_a_model_file_that_is_not_one(tmp_path, capsys):
    conll = _write(tmp_path / "in.conll", "EU NNP\nrejects VBZ\n\nPeter NNP B-PER\n")
    not_a_model = _write(tmp_path / "model.safetensors", "this is not a model")
    err = _fails(["tagger", "tag", str(not_a_model), str(conll)], capsys)
    assert err.startswith(f"groundup tagger: {conll}, line 4: 3 columns, but line 1 has 2")
    text = _write(tmp_path / "in.txt", "EU rejects German call\n")
    err = _fails(["tagger", "tag", str(not_a_model), str(text)], capsys)
    assert str(not_a_model) in err  # persistence refuses it, naming the file
    err = _fails(["tagger", "tag", str(not_a_model), str(text), "--output", str(text)], capsys)
    assert err == f"groundup tagger: --output {str(text)!r} would overwrite an input file; name another output file\n"
    assert text.read_text(encoding="utf-8") == "EU rejects German call\n"


def test_sentiment_unbalanced_bracket_names_file_line_and_character(tmp_path, capsys):
    trees = _write(tmp_path / "trees.txt", "(3 (2 it) (4 great))\n(1 (2 not) (1 dull)\n")
    err = _fails(["sentiment", "train", "--train", str(trees), "--save", str(tmp_path / "s.safetensors")], capsys)
    assert err.startswith(f"groundup sentiment: {trees}, line 2: the string ends before the closing ')' (at character ")
    labels = _write(tmp_path / "labels.txt", "(3 (2 it) (x great))\n")
    err = _fails(["sentiment", "predict", str(tmp_path / "s.safetensors"), str(labels)], capsys)
    assert "does not exist" in err  # the model file is checked first
    model_free = ["sentiment", "train", "--train", str(labels), "--save", str(tmp_path / "s.safetensors")]
    assert f"{labels}, line 1: the label 'x' is not an integer" in _fails(model_free, capsys)


@pytest.mark.parametrize("content, expected", [
    ("a,b\n1,2\n3,x\n", "line 3, column 2: 'x' is not a number"),
    ("1,2,3\n4,5,6\n7,8\n", "line 3: 2 columns, but the first data line has 3"),
    ("1,2\n3,nan\n", "line 2, column 2: 'nan' is not a finite number"),
    ("a,b\n", "no data lines after the header on line 1"),
    ("", "the file is empty"),
])
def test_csv_errors_name_the_line(tmp_path, capsys, content, expected):
    data = _write(tmp_path / "data.csv", content)
    err = _fails(["pca", str(data), "--n-components", "1", "--out", str(tmp_path / "out.csv")], capsys)
    assert err.startswith(f"groundup pca: {data}") and expected in err


@pytest.mark.parametrize("array, expected", [
    (np.arange(10.0), "holds an array of shape (10,); expected a 2-D array"),
    (np.array([["a", "b"], ["c", "d"]]), "holds an array of dtype <U1, not numbers"),
    (np.array([[1, None]], dtype=object), "holds Python objects (a pickle)"),
    (np.array([[1.0, np.inf]]), "row 1, column 2 holds inf"),
])
def test_npy_errors(tmp_path, capsys, array, expected):
    data = tmp_path / "data.npy"
    np.save(data, array, allow_pickle=True)
    err = _fails(["tsne", str(data), "--out", str(tmp_path / "map.png")], capsys)
    assert err.startswith(f"groundup tsne: {data}: ") and expected in err


def test_labels_must_match_the_rows(tmp_path, capsys):
    data = tmp_path / "data.npy"
    np.save(data, np.random.default_rng(0).normal(size=(5, 3)))
    short = _write(tmp_path / "short.txt", "a\nb\nc\n")
    err = _fails(["pca", str(data), "--n-components", "2", "--out", str(tmp_path / "m.png"), "--labels", str(short)], capsys)
    assert err == f"groundup pca: {short}: 3 labels (lines 1-3), but {data} has 5 rows; expected one label per row\n"
    long = _write(tmp_path / "long.txt", "a\nb\nc\nd\ne\nf\n")
    err = _fails(["pca", str(data), "--n-components", "2", "--out", str(tmp_path / "m.png"), "--labels", str(long)], capsys)
    assert err == f"groundup pca: {long}, line 6: more labels than {data} has rows (5)\n"
    gap = _write(tmp_path / "gap.txt", "a\n\nc\nd\ne\n")
    err = _fails(["pca", str(data), "--n-components", "2", "--out", str(tmp_path / "m.png"), "--labels", str(gap)], capsys)
    assert err.startswith(f"groundup pca: {gap}, line 2: empty label")
    assert not list(tmp_path.glob("m.*"))


def test_output_names_are_checked_before_any_work(tmp_path, capsys):
    data = tmp_path / "data.npy"
    np.save(data, np.ones((4, 2)))
    assert "--out must end in .png" in _fails(["pca", str(data), "--n-components", "1", "--out", "x.txt"], capsys)
    err = _fails(["pca", str(data), "--n-components", "1", "--out", str(tmp_path / "no" / "x.csv")], capsys)
    assert "does not exist" in err
    err = _fails(["pca", str(data), "--n-components", "1", "--out", str(tmp_path / "m.png"), "--coords", str(data)], capsys)
    assert err == f"groundup pca: writing {str(data)!r} would overwrite an input file; name another output " \
                  "(--out, or --coords for the coordinates)\n"
    assert np.load(data).shape == (4, 2)


@pytest.mark.parametrize("command, example", [
    (["tagger", "train"], "groundup tagger train --train conll2003/train.txt"),
    (["tagger", "tag"], "groundup tagger tag pos.safetensors sentences.txt"),
    (["sentiment", "train"], "groundup sentiment train --train trees/train.txt"),
    (["sentiment", "predict"], "groundup sentiment predict rntn.safetensors reviews.txt"),
    (["tsne"], "groundup tsne digits.csv --labels digits_labels.txt --out digits.png"),
    (["pca"], "groundup pca digits.csv --n-components 10"),
])
def test_help_shows_a_worked_example(capsys, command, example):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and example in out
