"""The one persistence protocol (groundup.persistence.SaveLoadMixin): every model of the
NLP and unsupervised families saves and loads through ``_get_state``/``_set_state``, and
files written before the protocol existed still load, to the same arrays and metadata.

The fixtures in tests/fixtures/saved_before_protocol/ were written by groundup's code as it
was before the protocol (tiny fixed-seed fits; the unsupervised estimators then kept their
own metadata under "extra")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from groundup import persistence
from groundup.nlp import RNTN, GloVe, RecursiveNN, RNNTagger, TaggerEnsemble, Word2Vec
from groundup.persistence import ModelFileError, SaveLoadMixin
from groundup.unsupervised import DBN, PCA, RBM, TSNE, Autoencoder, StackedAutoencoder

FIXTURES = Path(__file__).parent / "fixtures" / "saved_before_protocol"

CLASSES = {
    "word2vec": Word2Vec, "glove": GloVe, "tagger": RNNTagger, "ensemble": TaggerEnsemble,
    "recursive": RecursiveNN, "rntn": RNTN, "pca": PCA, "tsne": TSNE, "ae": Autoencoder,
    "sae": StackedAutoencoder, "rbm": RBM, "dbn": DBN,
}
_WRITTEN_BY_SAVE = {"class", "format_version", "groundup_version"}


def _plain(doc):
    """JSON's view of a metadata document (tuples are lists), less what save adds."""
    return json.loads(json.dumps({k: v for k, v in doc.items() if k not in _WRITTEN_BY_SAVE}))


def test_every_saveable_model_follows_the_one_protocol():
    for cls in CLASSES.values():
        assert issubclass(cls, SaveLoadMixin), cls
        assert cls._get_state is not SaveLoadMixin._get_state and cls._set_state is not SaveLoadMixin._set_state, cls
        # save and load are written once, in the mixin
        assert cls.save is SaveLoadMixin.save and cls.load.__func__ is SaveLoadMixin.load.__func__, cls
        assert cls._class_id.startswith("groundup."), cls


def _np(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_files_saved_before_the_protocol_load_to_the_same_state(name, tmp_path):
    path = FIXTURES / f"{name}.safetensors"
    cls = CLASSES[name]
    tensors, metadata = persistence.load(path)
    model = cls.load(path, device="cpu")
    assert type(model) is cls
    # What the model would write now is what the old file holds: the same arrays, bit for
    # bit, and the same metadata (in the current layout).
    now_tensors, now_metadata = model._file_state()
    assert sorted(now_tensors) == sorted(tensors)
    for key, value in tensors.items():
        assert np.array_equal(_np(now_tensors[key]), value), key
    assert _plain(now_metadata) == _plain(cls._upgrade_state(metadata))
    # Saved again by this code, it loads to the same state.
    again = cls.load(model.save(tmp_path / "again.safetensors"), device="cpu")
    again_tensors, again_metadata = again._file_state()
    assert all(np.array_equal(_np(again_tensors[k]), tensors[k]) for k in tensors)
    assert _plain(again_metadata) == _plain(now_metadata)


def test_the_old_unsupervised_layout_is_read_and_the_new_one_is_flat(tmp_path):
    old = persistence.read_metadata(FIXTURES / "rbm.safetensors")
    assert "loss_curve_" in old["extra"]  # the layout before the protocol
    rbm = RBM.load(FIXTURES / "rbm.safetensors")
    assert rbm.loss_curve_ == old["extra"]["loss_curve_"] and rbm.n_features_in_ == old["n_features_in_"]
    new = persistence.read_metadata(rbm.save(tmp_path / "rbm.safetensors"))
    assert "extra" not in new and new["loss_curve_"] == old["extra"]["loss_curve_"]


def test_loaded_old_models_work():
    X = np.linspace(0, 1, 64 * 3, dtype=np.float32).reshape(3, 64)
    assert PCA.load(FIXTURES / "pca.safetensors").transform(X).shape == (3, 5)
    assert DBN.load(FIXTURES / "dbn.safetensors").predict(X).shape == (3,)
    assert StackedAutoencoder.load(FIXTURES / "sae.safetensors").predict_proba(X).shape[0] == 3
    assert Autoencoder.load(FIXTURES / "ae.safetensors").transform(X).shape == (3, 4)
    sentences = [["John", "lives", "in", "Paris"]]
    assert len(RNNTagger.load(FIXTURES / "tagger.safetensors").predict(sentences)[0]) == 4
    ensemble = TaggerEnsemble.load(FIXTURES / "ensemble.safetensors")
    assert len(ensemble) == 2 and len(ensemble.predict(sentences)[0]) == 4
    assert Word2Vec.load(FIXTURES / "word2vec.safetensors").wv.most_similar("cat", topn=1)


def _rewrite(src: Path, dst: Path, *, drop_tensor: str | None = None, drop_meta: str | None = None,
             reshape: str | None = None) -> Path:
    tensors, metadata = persistence.load(src)
    metadata = {k: v for k, v in metadata.items() if k not in ("format_version", "groundup_version")}
    if drop_tensor:
        del tensors[drop_tensor]
    if drop_meta:
        del metadata[drop_meta]
    if reshape:
        tensors[reshape] = tensors[reshape][:-1]
    return persistence.save(dst, tensors, metadata)


def test_files_that_do_not_make_a_model_are_refused_with_the_path_and_the_reason(tmp_path):
    bad = _rewrite(FIXTURES / "tagger.safetensors", tmp_path / "a.safetensors", drop_meta="vocabulary")
    with pytest.raises(ModelFileError, match=r"a\.safetensors.*lacks the entry 'vocabulary'"):
        RNNTagger.load(bad)
    bad = _rewrite(FIXTURES / "rntn.safetensors", tmp_path / "b.safetensors", reshape="compose.V")
    with pytest.raises(ModelFileError, match=r"b\.safetensors.*the weights do not fit the saved hyper-parameters"):
        RNTN.load(bad)
    bad = _rewrite(FIXTURES / "word2vec.safetensors", tmp_path / "c.safetensors", reshape="vectors")
    with pytest.raises(ModelFileError, match=r"c\.safetensors.*words but vectors of shape"):
        Word2Vec.load(bad)
    bad = _rewrite(FIXTURES / "pca.safetensors", tmp_path / "d.safetensors", drop_meta="n_features_in_")
    with pytest.raises(ModelFileError, match="lacks the entry 'n_features_in_'"):
        PCA.load(bad)
    tensors, metadata = persistence.load(FIXTURES / "ensemble.safetensors")
    metadata = {"class": metadata["class"], "members": []}
    persistence.save(tmp_path / "e.safetensors", tensors, metadata)
    with pytest.raises(ModelFileError, match="it names no members"):
        TaggerEnsemble.load(tmp_path / "e.safetensors")


def test_load_device_defaults():
    # nlp files are portable (load picks this machine's device); unsupervised estimators
    # keep the device saved in their parameters unless told otherwise.
    assert RNNTagger.load(FIXTURES / "tagger.safetensors").device == "auto"
    assert Word2Vec.load(FIXTURES / "word2vec.safetensors").device == "auto"
    assert PCA.load(FIXTURES / "pca.safetensors").device == "cpu"
    assert PCA.load(FIXTURES / "pca.safetensors", device="auto").device == "auto"
