"""Word-form features for the RNN tagger: normalisation, casing classes, a character CNN.

Why these: a word embedding knows nothing about a word it never saw in training, but the
word's spelling does: "Zhengzhou" is capitalised (probably a name), "reorganising" ends
in "-ing" (probably a verb). The character CNN (Ma & Hovy, 2016) or the character BiLSTM
(Lample et al., 2016; Plank et al., 2016) reads the spelling, and the casing class
(Collobert et al., 2011) keeps the capitalisation that lower-casing the word embedding's
key throws away.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from groundup.nlp._birnn import BiRNN

__all__ = ["CASES", "normalize_word", "word_case", "CharCNN", "CharLSTM"]

_DIGITS = re.compile(r"[0-9]")

# The casing classes, in order; index 0 is left for padding.
CASES = ("<pad>", "lower", "upper", "title", "mixed", "numeric", "has_digit", "other")


def normalize_word(word: str, lowercase: bool) -> str:
    """The key under which a word's embedding is stored: digits become "0" (so that
    "1996" and "1997" share one vector) and, when ``lowercase``, letters are lower-cased."""
    word = _DIGITS.sub("0", word)
    return word.lower() if lowercase else word


def word_case(word: str) -> int:
    """The index in :data:`CASES` of ``word``'s casing class."""
    if word.isdigit():
        return CASES.index("numeric")
    if any(c.isdigit() for c in word):
        return CASES.index("has_digit")
    if word.islower():
        return CASES.index("lower")
    if word.isupper():
        return CASES.index("upper")
    if word[:1].isupper() and (len(word) == 1 or word[1:].islower()):
        return CASES.index("title")
    if any(c.isalpha() for c in word):
        return CASES.index("mixed")
    return CASES.index("other")


class CharCNN(nn.Module):
    """One vector per word form from its characters: embed, convolve, max-pool over time.

    ``chars`` is a ``(n_forms, max_len)`` tensor of character ids, 0 for padding. The
    caller wraps every word in begin and end markers, so that a width-3 filter can tell a
    prefix or suffix ("-ing") from the same letters inside the word.
    """

    def __init__(self, n_chars: int, char_vector_size: int, char_filters: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_chars, char_vector_size, padding_idx=0)
        self.conv = nn.Conv1d(char_vector_size, char_filters, kernel_size, padding=kernel_size // 2)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        x = self.embedding(chars).transpose(1, 2)  # (forms, char_vector_size, max_len)
        h = self.conv(x)
        # Padding positions must not win the max: push them to -inf before pooling.
        pad = (chars == 0).unsqueeze(1)
        h = h.masked_fill(pad, float("-inf"))
        return h.max(dim=2).values  # (forms, char_filters)


class CharLSTM(nn.Module):
    """One vector per word form: a bidirectional LSTM reads its characters, and the vector
    is the forward LSTM's state after the last character joined to the backward LSTM's
    state after the first. Unlike the CNN's max over windows, the two end states keep
    *where* letters are, so a suffix ("-ers", "-ing") or a prefix is read as such.

    ``chars`` is a ``(n_forms, max_len)`` tensor of character ids, 0 for padding after
    each form's characters (the caller's begin and end markers included).
    """

    def __init__(self, n_chars: int, char_vector_size: int, hidden_size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_chars, char_vector_size, padding_idx=0)
        self.rnn = BiRNN(nn.LSTM, char_vector_size, hidden_size, 1, 0.0)
        self.hidden_size = hidden_size

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        lengths = (chars != 0).sum(dim=1)
        h = self.rnn(self.embedding(chars), lengths)  # (forms, max_len, 2 * hidden_size)
        last = h[torch.arange(len(chars), device=chars.device), lengths - 1, : self.hidden_size]
        return torch.cat([last, h[:, 0, self.hidden_size :]], dim=-1)  # (forms, 2 * hidden_size)
