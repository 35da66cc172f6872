"""The tagger's network, and the padded id tensors it reads (see :mod:`groundup.nlp.tagger`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from groundup.nlp._bio import bio_transitions
from groundup.nlp._birnn import BiRNN
from groundup.nlp._crf import CRF
from groundup.nlp._char_features import CASES, CharCNN, CharLSTM, normalize_word, word_case

__all__ = ["CELLS", "CHAR_SPECIALS", "MAX_WORD_CHARS", "TaggerNet", "encode"]

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
CHAR_SPECIALS = ("<pad>", "<bow>", "<eow>", "<unk>")  # character ids 0..3
MAX_WORD_CHARS = 30  # longer tokens (URLs, long numbers) keep their first 30 characters


class TaggerNet(nn.Module):
    """Embeddings -> dropout -> bidirectional RNN -> dropout -> linear tag scores
    (-> a CRF's transition scores, when ``p["crf"]``; BIO-constrained when ``bio``)."""

    def __init__(self, n_words: int, vector_size: int, n_chars: int, p: dict[str, Any], tags: list[str],
                 bio: bool) -> None:
        super().__init__()
        self.words = nn.Embedding(n_words, vector_size, padding_idx=0)
        in_size = vector_size
        self.chars = None
        if p["char_features"]:
            if p["char_encoder"] == "lstm":
                self.chars = CharLSTM(n_chars, p["char_vector_size"], p["char_hidden_size"])
                in_size += 2 * p["char_hidden_size"]
            else:
                self.chars = CharCNN(n_chars, p["char_vector_size"], p["char_filters"])
                in_size += p["char_filters"]
            self.cases = nn.Embedding(len(CASES), p["case_vector_size"], padding_idx=0)
            in_size += p["case_vector_size"]
        self.dropout = nn.Dropout(p["dropout"])
        self.rnn = BiRNN(CELLS[p["cell"]], in_size, p["hidden_size"], p["num_layers"], p["dropout"])
        self.out = nn.Linear(2 * p["hidden_size"], len(tags))
        self.crf = CRF(len(tags), *(bio_transitions(tags) if bio else (None, None))) if p["crf"] else None

    def forward(self, words: torch.Tensor, cases: torch.Tensor, forms: torch.Tensor, form_chars: torch.Tensor,
                lengths: torch.Tensor) -> torch.Tensor:
        """Tag scores ``(batch, max_len, n_tags)`` for a padded batch; ``forms`` indexes the
        rows of ``form_chars`` (every distinct spelling in the data set)."""
        x = self.words(words)
        if self.chars is not None:
            # Each distinct spelling in the batch goes through the character encoder once.
            uniq, inverse = torch.unique(forms, return_inverse=True)
            chars = form_chars[uniq]
            chars = chars[:, : int((chars != 0).sum(dim=1).max())]  # no all-padding columns
            spelled = self.chars(chars)[inverse]
            x = torch.cat([x, spelled, self.cases(cases)], dim=-1)
        h = self.rnn(self.dropout(x), lengths)
        return self.out(self.dropout(h))


def encode(sentences: Sequence[Sequence[str]], word_index: dict[str, int], char_index: dict[str, int],
           lowercase: bool, tags: tuple[Sequence[Sequence[str]], dict[str, int]] | None = None) -> dict[str, torch.Tensor]:
    """Padded id tensors for a data set: ``words`` (vocabulary ids, 1 = unknown), ``cases``
    (casing classes), ``forms`` (which distinct spelling), ``form_chars`` (each spelling's
    characters between begin/end markers), ``lengths`` and, given ``(tags, tag_index)``,
    ``tags`` (-100 at padding: cross-entropy's ignore_index)."""
    n, max_len = len(sentences), max(len(s) for s in sentences)
    words = np.zeros((n, max_len), dtype=np.int64)
    cases = np.zeros((n, max_len), dtype=np.int64)
    forms = np.zeros((n, max_len), dtype=np.int64)
    form_index: dict[str, int] = {"": 0}
    for i, sentence in enumerate(sentences):
        for j, w in enumerate(sentence):
            words[i, j] = word_index.get(normalize_word(w, lowercase), 1)
            cases[i, j] = word_case(w)
            forms[i, j] = form_index.setdefault(w, len(form_index))
    form_chars = np.zeros((len(form_index), MAX_WORD_CHARS + 2), dtype=np.int64)
    for form, f in form_index.items():
        ids = [1] + [char_index.get(c, 3) for c in form[:MAX_WORD_CHARS]] + [2]
        form_chars[f, : len(ids)] = ids
    data = {
        "words": torch.from_numpy(words), "cases": torch.from_numpy(cases), "forms": torch.from_numpy(forms),
        "form_chars": torch.from_numpy(form_chars), "lengths": torch.tensor([len(s) for s in sentences]),
    }
    if tags is not None:
        tag_lists, tag_index = tags
        y = np.full((n, max_len), -100, dtype=np.int64)
        for i, t in enumerate(tag_lists):
            y[i, : len(t)] = [tag_index[tag] for tag in t]
        data["tags"] = torch.from_numpy(y)
    return data
