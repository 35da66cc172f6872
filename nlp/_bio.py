"""Decoding BIO tags so that every entity is well formed.

Tagging each token with its own most likely tag can produce ``O I-PER`` or ``B-LOC I-ORG``:
an entity that never began. The tagger's per-token probabilities say what each token
probably is; the BIO scheme says which sequences exist (``I-X`` only after ``B-X`` or
``I-X``). :func:`groundup.nlp._crf.viterbi_decode` with the transition scores of
:func:`bio_transitions` (0 where allowed, minus infinity where not) finds the sequence
with the highest total log-probability among the allowed ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["is_bio", "bio_transitions"]


def is_bio(tags: Sequence[str]) -> bool:
    """Whether every tag is ``O``, ``B-TYPE`` or ``I-TYPE``."""
    return all(t == "O" or (len(t) > 2 and t[:2] in ("B-", "I-")) for t in tags)


def bio_transitions(tags: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(allowed[prev, cur], allowed_first[cur])`` as 0 / -inf scores for ``tags``."""
    n = len(tags)
    allowed = torch.zeros(n, n)
    first = torch.zeros(n)
    for j, cur in enumerate(tags):
        if cur.startswith("I-"):
            first[j] = float("-inf")  # a sentence cannot start inside an entity
            for i, prev in enumerate(tags):
                if prev[2:] != cur[2:] or prev == "O":
                    allowed[i, j] = float("-inf")
    return allowed, first
