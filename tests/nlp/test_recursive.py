"""RecursiveNN and RNTN: level batching against a node-by-node reference, the tensor
composition's formula, learning negation on the generated treebank, persistence, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from nltk import Tree

from groundup.datasets.trees import make_sentiment_treebank, parse_sst_tree
from groundup.nlp import EarlyStoppingWarning, NoLearningWarning
from groundup.nlp._estimator import NotFittedError
from groundup.nlp._tree_batch import collate, flatten_tree
from groundup.nlp.recursive_nn import Composition, RecursiveNN
from groundup.nlp.rntn import RNTN, TensorComposition
from groundup.persistence import ModelFileError


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Tiny matrices: one thread is fastest, and immune to a busy machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def bank():
    return make_sentiment_treebank(n_train=1500, n_dev=200, n_test=300, n_negated=300, random_state=0)


@pytest.fixture(scope="module")
def rntn(bank):
    return RNTN(vector_size=16, learning_rate=0.02, optimizer="adam", max_iter=25, random_state=0).fit(
        bank.train, validation_data=bank.dev
    )


def test_flatten_and_collate_order_nodes_by_level():
    tree = parse_sst_tree("(3 (2 it) (4 (2 is) (4 great)))")
    ids = {"it": 1, "is": 2, "great": 3}
    flat = flatten_tree(tree, ids.__getitem__)
    assert flat.word.tolist() == [1, 2, 3, -1, -1]  # post-order: it, is, great, (is great), root
    assert flat.left.tolist() == [-1, -1, -1, 1, 0] and flat.right.tolist() == [-1, -1, -1, 2, 3]
    assert flat.level.tolist() == [0, 0, 0, 1, 2] and flat.label.tolist() == [2, 2, 4, 4, 3]
    batch = collate([flat, flatten_tree(parse_sst_tree("(1 (2 not) (3 great))"), lambda w: 9)])
    assert batch.n_nodes == 8 and batch.roots.tolist() == [4, 7]
    assert [lv[0].tolist() for lv in batch.levels] == [[3, 7], [4]]
    assert batch.levels[0][1].tolist() == [1, 5] and batch.levels[0][2].tolist() == [2, 6]


@pytest.mark.parametrize("composition", [Composition, TensorComposition])
def test_level_batching_equals_node_by_node_recursion(composition):
    bank = make_sentiment_treebank(n_train=20, n_dev=0, n_test=0, n_negated=0, random_state=1)
    torch.manual_seed(0)
    from groundup.nlp.recursive_nn import _TreeNet

    net = _TreeNet(60, 6, 5, composition(6))
    vocab: dict[str, int] = {}
    word_id = lambda w: vocab.setdefault(w, len(vocab))  # noqa: E731
    flats = [flatten_tree(t, word_id) for t in bank.train]
    got = net.node_vectors(collate(flats))

    def reference(tree: Tree) -> list[torch.Tensor]:  # one call per node, in post-order
        if len(tree) == 1:
            return [net.embedding.weight[vocab[tree[0]]]]
        left, right = reference(tree[0]), reference(tree[1])
        return left + right + [net.compose(left[-1][None], right[-1][None])[0]]

    expected = torch.stack([v for t in bank.train for v in reference(t)])
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def test_tensor_composition_matches_the_formula():
    torch.manual_seed(0)
    comp = TensorComposition(3)
    a, b = torch.randn(2, 3), torch.randn(2, 3)
    x = torch.cat([a, b], dim=1)
    for n in range(2):
        expected = torch.tanh(
            torch.stack([x[n] @ comp.V[k] @ x[n] for k in range(3)]) + comp.W.weight @ x[n] + comp.W.bias
        )
        torch.testing.assert_close(comp(a, b)[n], expected)


def test_rntn_learns_negation_that_bag_of_words_cannot(bank, rntn):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    assert rntn.score(bank.negated) >= 0.9
    assert rntn.score(bank.test, nodes="all") >= 0.95
    assert rntn.score(bank.negated, binary=True) >= 0.9
    text = lambda trees: [" ".join(t.leaves()) for t in trees]  # noqa: E731
    vec = CountVectorizer(token_pattern=r"\S+")
    bow = LogisticRegression(max_iter=2000).fit(vec.fit_transform(text(bank.train)), [t.label() for t in bank.train])
    bow_negated = bow.score(vec.transform(text(bank.negated)), [t.label() for t in bank.negated])
    assert bow_negated < 0.65  # the negated roots are 1 or 3 in equal parts: chance is ~0.5


def test_recursive_nn_learns_the_treebank(bank):
    model = RecursiveNN(vector_size=16, learning_rate=0.02, optimizer="adam", max_iter=15, random_state=0)
    model.fit(bank.train[:800])
    assert model.n_iter_ >= 1 and 0 < model.best_score_ <= 1
    assert model.score(bank.test, nodes="all") >= 0.85


def test_predictions_shapes_and_predict_nodes(bank, rntn):
    trees = bank.test[:7]
    proba = rntn.predict_proba(trees)
    assert proba.shape == (7, 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert rntn.predict(trees).tolist() == proba.argmax(axis=1).tolist()
    labelled = rntn.predict_nodes(trees)
    assert [t.leaves() for t in labelled] == [t.leaves() for t in trees]
    assert [t.label() for t in labelled] == rntn.predict(trees).tolist()
    # Prediction ignores the trees' labels: an unlabelled parse works too.
    subject = Tree("NP", [Tree("D", ["the"]), Tree("N", ["film"])])
    bare = Tree("S", [subject, Tree("VP", [Tree("V", ["is"]), Tree("A", ["awful"])])])
    assert rntn.predict([bare]).tolist() == [0]


@pytest.mark.filterwarnings("ignore::groundup.nlp.NoLearningWarning")  # two epochs on purpose
def test_same_random_state_same_model_and_save_load(tmp_path, bank, rntn):
    a = RNTN(vector_size=8, max_iter=2, random_state=3).fit(bank.train[:200])
    b = RNTN(vector_size=8, max_iter=2, random_state=3).fit(bank.train[:200])
    assert a.training_log_.column("loss") == b.training_log_.column("loss")
    path = tmp_path / "rntn.safetensors"
    rntn.save(path)
    loaded = RNTN.load(path, device="cpu")
    np.testing.assert_array_equal(loaded.predict_proba(bank.test), rntn.predict_proba(bank.test))
    with pytest.raises(ModelFileError, match=r"holds a 'groundup.nlp.RNTN', but a 'groundup.nlp.RecursiveNN'"):
        RecursiveNN.load(path)


def test_bad_input_errors(bank, rntn):
    with pytest.raises(TypeError, match=r"trees\[1\]\[0\] has the leaf 7 of type int; leaves must be word strings"):
        rntn.predict([bank.test[0], Tree(2, [Tree(2, [7]), Tree(2, ["x"])])])
    with pytest.raises(ValueError, match=r"trees\[0\] has 3 children; binarised"):
        rntn.predict([Tree(2, [Tree(2, ["a"]), Tree(2, ["b"]), Tree(2, ["c"])])])
    with pytest.raises(TypeError, match=r"trees\[0\] has the label 'S'; labels must be integers"):
        RNTN().fit([Tree("S", [Tree(2, ["a"]), Tree(2, ["b"])])])
    with pytest.raises(ValueError, match=r"trees\[0\] has the label\(s\) \[7\], which the model never saw"):
        rntn.score([parse_sst_tree("(7 (2 it) (2 is))")])
    with pytest.raises(TypeError, match=r"trees must be a list of nltk.Tree objects"):
        rntn.predict("(2 it)")
    with pytest.raises(ValueError, match=r"trees is empty"):
        rntn.predict([])
    with pytest.raises(NotFittedError, match="RNTN is not fitted yet"):
        RNTN().predict(bank.test)
    with pytest.raises(ValueError, match=r"optimizer must be 'adagrad' or 'adam'; got 'sgd'"):
        RNTN(optimizer="sgd").fit(bank.train)
    with pytest.raises(ValueError, match=r"nodes must be 'root' or 'all'; got 'leaves'"):
        rntn.score(bank.test, nodes="leaves")


@pytest.mark.parametrize("cls", [RecursiveNN, RNTN])
def test_early_stopping_on_a_handful_of_trees_warns_and_says_why_it_stopped(cls):
    trees = make_sentiment_treebank(n_train=6, n_dev=0, n_test=0, n_negated=0, random_state=0).train
    with pytest.warns(EarlyStoppingWarning) as record:
        model = cls(vector_size=8, max_iter=12, early_stopping=True, random_state=0).fit(trees)
    message = str(record[0].message)  # before training: validation_fraction sets aside fewer than 10 trees
    assert message.startswith("validation_fraction=0.1 sets aside only 1 of the 6 training trees"), message
    assert "early_stopping=False" in message and "validation_data=trees" in message
    assert record[0].filename == __file__
    reason = model.training_log_.stop_reason
    if model.n_iter_ < 12:
        assert reason.startswith("early_stopping: no improvement in 10 epochs; stopped after epoch"), reason
    else:
        assert reason.startswith("max_iter: all 12 epochs ran"), reason
    with warnings.catch_warnings():
        warnings.simplefilter("error", EarlyStoppingWarning)
        full = cls(vector_size=8, max_iter=20, early_stopping=False, random_state=0).fit(trees)
    assert full.n_iter_ == 20 and full.training_log_.stop_reason == "max_iter: all 20 epochs ran"


@pytest.mark.parametrize("cls", [RecursiveNN, RNTN])
def test_early_stopping_on_50_validation_trees_does_not_warn_on_49_it_does(bank, cls):
    for n_val in (50, 49):
        model = cls(vector_size=8, learning_rate=0.05, optimizer="adam", max_iter=30, n_iter_no_change=1, random_state=0)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            model.fit(bank.train[:100], validation_data=bank.dev[:n_val])
        assert sum(issubclass(w.category, EarlyStoppingWarning) for w in record) == (n_val < 50), n_val
        reason = model.training_log_.stop_reason
        assert reason.startswith("early_stopping: no improvement in 1 epoch; stopped after epoch"), reason
        assert f"after epoch {model.n_iter_} of max_iter=30" in reason


def test_the_stop_reason_when_every_epoch_runs(bank):
    model = RecursiveNN(vector_size=8, max_iter=3, n_iter_no_change=3, random_state=0).fit(bank.train[:200], validation_data=bank.dev[:60])
    best = int(np.argmax(model.training_log_.column("val_root_accuracy"))) + 1
    assert model.training_log_.stop_reason.startswith(f"max_iter: all 3 epochs ran, kept epoch {best} (val_root_accuracy ")


# ---------------------------------------------------------------- issue 21: learning that starts late, bad input
def _trees(*brackets: str) -> list:
    return [parse_sst_tree(b) for b in brackets]


@pytest.mark.parametrize("cls", [RecursiveNN, RNTN])
def test_a_tree_model_that_never_leaves_its_floor_trains_on_and_warns(cls):
    train = _trees("(3 (2 a) (3 good))", "(1 (2 a) (1 bad))", "(3 (2 the) (3 fine))") * 4
    # Every validation root is 3, the commonest training root: predicting 3 everywhere
    # scores 1, a floor no model can rise above.
    validation = _trees("(3 (2 the) (3 good))", "(3 (2 a) (3 fine))")
    model = cls(vector_size=4, max_iter=4, n_iter_no_change=1, min_epochs=1, random_state=0)
    with pytest.warns(NoLearningWarning) as record:
        model.fit(train, validation_data=validation)
    assert model.n_iter_ == 4  # patience 1 did not stop it
    assert model.training_log_.stop_reason.endswith("; val_root_accuracy never rose above its floor 1 (predicting "
                                                    "the label 3 at every root), so early stopping never began")
    (warning,) = [w for w in record if w.category is NoLearningWarning]  # beside the small-validation warning
    message = str(warning.message)
    assert message.startswith(f"{cls.__name__}: after 4 epochs the best val_root_accuracy is ")
    assert "no better than predicting the label 3 at every root (1)" in message and warning.filename == __file__


@pytest.mark.parametrize("cls", [RecursiveNN, RNTN])
def test_min_epochs_holds_off_stopping_for_tree_models(bank, cls):
    model = cls(vector_size=8, learning_rate=0.05, optimizer="adam", max_iter=10, n_iter_no_change=1, min_epochs=7,
                random_state=0).fit(bank.train[:100], validation_data=bank.dev[:50])
    scores = model.training_log_.column("val_root_accuracy")
    # The old rules (patience 1 from epoch 1) stopped at the first epoch without improvement.
    first_stale = next(i + 1 for i in range(1, len(scores)) if scores[i] <= max(scores[:i]))
    assert first_stale < 7 and model.n_iter_ >= 7
    if model.n_iter_ < 10:
        assert model.training_log_.stop_reason.startswith(f"early_stopping: no improvement in 1 epoch; stopped after "
                                                          f"epoch {model.n_iter_} of max_iter=10")


def test_tree_models_bad_input():
    one_label = _trees("(2 (2 a) (2 film))", "(2 (2 the) (2 plot))") * 6
    with pytest.raises(ValueError, match=r"^trees holds a single label, 2, on all 36 nodes; training needs at least "
                                         r"2 distinct labels"):
        RecursiveNN(early_stopping=False).fit(one_label)
    train = _trees("(3 (2 a) (3 good))", "(1 (2 a) (1 bad))") * 6
    with pytest.warns(UserWarning, match=r"^RNTN: validation_data has the label 4 \(1 in all\) that the training "
                                         r"labels never show"):
        model = RNTN(vector_size=4, max_iter=2, random_state=0).fit(train, validation_data=_trees("(4 (2 a) (3 good))"))
    assert model.classes_ == [1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"trees\[0\] has the label\(s\) \[0\], which the model never saw"):
        model.score(_trees("(0 (2 a) (1 bad))"))
    # trees of one word: a leaf is the root
    words = _trees("(3 good)", "(1 bad)", "(3 fine)", "(1 awful)") * 5
    model = RecursiveNN(vector_size=4, learning_rate=0.1, optimizer="adam", max_iter=20, early_stopping=False,
                        random_state=0).fit(words)
    assert model.predict(_trees("(2 good)", "(2 awful)")).tolist() == [3, 1] and model.score(words) == 1.0
    with pytest.warns(EarlyStoppingWarning, match=r"^validation_fraction=0.1 sets aside only 2 of the 20 training "
                                                  r"trees .* or validation_fraction=0.5 or more, or validation_data=trees"):
        RecursiveNN(vector_size=4, max_iter=1, early_stopping=True, random_state=0).fit(words)


@pytest.mark.parametrize("cls", [RecursiveNN, RNTN])
def test_early_stopping_auto_trains_on_every_tree_below_500(bank, cls):
    """A few hundred trees: 10% would be fewer than 50 validation trees, which pick the kept
    epoch by noise; "auto" trains on every tree for max_iter epochs instead, and says so."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", EarlyStoppingWarning)
        small = cls(vector_size=8, max_iter=3, random_state=0).fit(bank.train[:120])
    assert small.early_stopping_ is False and small.n_iter_ == 3
    assert small.training_log_.stop_reason == "max_iter: all 3 epochs ran"
    assert "val_root_accuracy" not in small.training_log_.rows[0]
    given = cls(vector_size=8, max_iter=2, random_state=0).fit(bank.train[:120], validation_data=bank.dev[:60])
    assert given.early_stopping_ is True and "val_root_accuracy" in given.training_log_.rows[0]
    with pytest.raises(ValueError, match=r"early_stopping must be True, False or 'auto'; got 1"):
        cls(early_stopping=1).fit(bank.train[:120])
