"""SST bracket reader, tree checks, and the generated compositional sentiment treebank."""

from __future__ import annotations

import pytest
from nltk import Tree

from groundup.datasets import DatasetNotFoundError
from groundup.datasets.trees import (
    INTENSIFIERS,
    NEGATORS,
    TreeFormatError,
    check_sentiment_tree,
    intensify,
    load_sst,
    make_sentiment_treebank,
    negate,
    parse_sst_tree,
    read_sst,
)

EXAMPLE = "(3 (2 it) (4 (2 is) (4 great)))"


def test_parse_sst_tree_gives_int_labels_and_round_trips():
    tree = parse_sst_tree(EXAMPLE)
    assert tree.label() == 3 and tree[1].label() == 4 and tree[1][1].label() == 4
    assert tree.leaves() == ["it", "is", "great"]
    assert [t.label() for t in tree.subtrees()] == [3, 2, 4, 2, 4]
    assert tree.pformat(margin=10**6) == EXAMPLE
    # Words keep any characters except whitespace and parentheses.
    assert parse_sst_tree("(1 (2 -LRB-) (1 n't))").leaves() == ["-LRB-", "n't"]


@pytest.mark.parametrize(
    "text, position, reason",
    [
        ("(3 (2 it) (4 (2 is) (4 great))", 30, "the string ends before the closing ')'"),
        ("(x (2 it) (2 is))", 1, "the label 'x' is not an integer"),
        ("(3 (2 it) (2 is) (2 x))", 17, "expected ')' after two subtrees, found '('"),
        ("(3 (2 it))", 9, "a node has one subtree"),
        ("(3 it is)", 6, "expected ')' after the word 'it', found 'is'"),
        ("(2 it) )", 7, "unexpected ')' after the end of the tree"),
        ("2 it", 0, "expected '(' to start a subtree, found '2'"),
        ("(3 (2 it) ()", 11, "expected an integer label after '(', found ')'"),
        ("(3)", 2, "a node has no children"),
        ("   ", 0, "the string is empty"),
    ],
)
def test_malformed_bracket_strings_name_the_position(text, position, reason):
    with pytest.raises(TreeFormatError) as info:
        parse_sst_tree(text)
    assert info.value.position == position
    assert reason in str(info.value)
    assert f"malformed tree at position {position}" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_sst_tree_rejects_non_strings():
    with pytest.raises(TypeError, match="text must be a string"):
        parse_sst_tree(["(2 it)"])


def test_read_sst_names_the_line_of_a_bad_tree(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(EXAMPLE + "\n\n(1 (2 not) (3 good))\n")
    assert [t.label() for t in read_sst(path)] == [3, 1]
    path.write_text(EXAMPLE + "\n(1 (2 not) (3 good)\n")
    with pytest.raises(TreeFormatError, match=r"train.txt, line 2: the string ends"):
        read_sst(path)


def test_load_sst_reads_a_folder_and_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDUP_DATA", raising=False)
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.txt").write_text(EXAMPLE + "\n")
    assert load_sst("dev", tmp_path)[0].leaves() == ["it", "is", "great"]
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path.parent))
    (tmp_path.parent / "sst").mkdir(exist_ok=True)
    with pytest.raises(DatasetNotFoundError, match=r"trainDevTestTrees_PTB.zip"):
        load_sst("test", tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'dev', 'test'; got 'valid'"):
        load_sst("valid", tmp_path)


def test_check_sentiment_tree_errors():
    check_sentiment_tree(parse_sst_tree(EXAMPLE))
    with pytest.raises(TypeError, match=r"tree\[1\] has the leaf 5 of type int; leaves must be word strings"):
        check_sentiment_tree(Tree(2, [Tree(2, ["a"]), Tree(2, [5])]))
    with pytest.raises(TypeError, match=r"tree has the label 'pos'; labels must be integers"):
        check_sentiment_tree(Tree("pos", ["good"]))
    with pytest.raises(ValueError, match=r"tree has 3 children; binarised"):
        check_sentiment_tree(Tree(2, [Tree(2, ["a"]), Tree(2, ["b"]), Tree(2, ["c"])]))
    with pytest.raises(ValueError, match=r"tree\[0\] is the bare word 'a'"):
        check_sentiment_tree(Tree(2, ["a", Tree(2, ["b"])]))
    with pytest.raises(TypeError, match=r"trees\[3\] must be an nltk.Tree; got str"):
        check_sentiment_tree(EXAMPLE, "trees[3]")
    check_sentiment_tree(Tree("S", [Tree("NP", ["a"]), Tree("VP", ["b"])]), labels=False)


def test_intensify_and_negate_rules():
    assert [intensify(v) for v in range(5)] == [0, 0, 2, 4, 4]
    assert [negate(v) for v in range(5)] == [3, 3, 2, 1, 1]


def _check_labels(tree: Tree) -> None:
    """Recompute every node's label from its children with the generator's rules."""
    if len(tree) == 1:
        return
    left, right = tree
    _check_labels(left)
    _check_labels(right)
    first = left[0] if len(left) == 1 else None
    if first in NEGATORS:
        assert tree.label() == negate(right.label())
    elif first in INTENSIFIERS:
        assert tree.label() == intensify(right.label())
    elif first == "but" or (len(left) == 1 and left.label() == 2):  # "but X", "is X", "the X"
        assert tree.label() == right.label()
    elif len(left) == 1:  # (ADJ NOUN)
        assert tree.label() == left.label()
    else:  # (SUBJECT PREDICATE) and (CLAUSE (but CLAUSE)): the right side unless it is neutral
        assert tree.label() == (right.label() if right.label() != 2 else left.label())


def test_generated_treebank_is_compositional_seeded_and_disjoint():
    bank = make_sentiment_treebank(n_train=300, n_dev=50, n_test=100, n_negated=80, random_state=3)
    assert [len(s) for s in bank] == [300, 50, 100, 80]
    texts = [{" ".join(t.leaves()) for t in split} for split in bank]
    assert sum(len(t) for t in texts) == 530  # no sentence appears twice, in or across splits
    for split in bank:
        for tree in split:
            check_sentiment_tree(tree)
            _check_labels(tree)
            assert parse_sst_tree(str(tree).replace("\n", " ")) == tree
    # Every held-out negated sentence has its root decided by a negation: label 1 or 3.
    assert all(set(t.leaves()) & set(NEGATORS) and t.label() in (1, 3) for t in bank.negated)
    labels = [t.label() for t in bank.negated]
    assert 0.35 < labels.count(1) / len(labels) < 0.65
    same = make_sentiment_treebank(n_train=300, n_dev=50, n_test=100, n_negated=80, random_state=3)
    other = make_sentiment_treebank(n_train=300, n_dev=50, n_test=100, n_negated=80, random_state=4)
    assert same == bank and other.train != bank.train


def test_generator_argument_errors():
    with pytest.raises(ValueError, match=r"n_train must be a non-negative integer; got -1"):
        make_sentiment_treebank(n_train=-1)
    with pytest.raises(ValueError, match=r"contrast must be a probability in \[0, 1\]; got 1.5"):
        make_sentiment_treebank(contrast=1.5)
    with pytest.raises(ValueError, match="negation=0 generates no negated sentences"):
        make_sentiment_treebank(n_train=10, n_dev=0, n_test=0, n_negated=5, negation=0.0)
