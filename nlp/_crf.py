"""A linear-chain conditional random field over the tagger's per-token scores.

Without it the tagger picks each token's tag on its own. A CRF (Lafferty et al., 2001;
on top of a BiLSTM: Huang, Xu & Yu, 2015; Lample et al., 2016) adds a learned score for
every pair of neighbouring tags, ``transitions[prev, cur]``, and scores a whole sequence:

    score(y) = start[y_1] + sum_t emissions[t, y_t] + sum_t transitions[y_{t-1}, y_t] + end[y_T]

Training maximises ``log p(y | x) = score(y) - log Z``, where ``log Z`` sums over every
tag sequence with the forward algorithm (one log-sum-exp per position); prediction finds
the best sequence with the Viterbi algorithm (one max per position). Both run on a padded
batch at once: a sentence that has ended simply stops changing its running score.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CRF", "viterbi_decode"]


class CRF(nn.Module):
    """Transition scores between ``n_tags`` tags, plus start and end scores.

    ``constraints`` (optional) is an ``(n_tags, n_tags)`` tensor of 0 / -inf added to the
    transitions (and ``first``, a ``(n_tags,)`` one, to the start scores) when decoding,
    to forbid some sequences outright, such as ``O -> I-PER`` in the BIO scheme. Training
    does not use them, so training data that breaks the scheme still has a finite loss.
    """

    def __init__(self, n_tags: int, constraints: torch.Tensor | None = None, first: torch.Tensor | None = None) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))
        self.register_buffer("constraints", constraints if constraints is not None else torch.zeros(n_tags, n_tags))
        self.register_buffer("first", first if first is not None else torch.zeros(n_tags))

    def neg_log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of ``-log p(tags | x)``; ``emissions`` is ``(batch, time,
        n_tags)``, ``tags`` ``(batch, time)`` (any value at padding), ``lengths`` ``(batch,)``."""
        batch, time, _ = emissions.shape
        trans, start = self.transitions, self.start
        mask = torch.arange(time, device=emissions.device).unsqueeze(0) < lengths.unsqueeze(1)  # (batch, time)
        tags = tags.clamp(min=0)  # padding (-100) -> any valid id; masked out below
        # Score of the gold path.
        gold = start[tags[:, 0]] + emissions[:, 0].gather(1, tags[:, :1]).squeeze(1)
        step = emissions[:, 1:].gather(2, tags[:, 1:].unsqueeze(2)).squeeze(2) + trans[tags[:, :-1], tags[:, 1:]]
        gold = gold + (step * mask[:, 1:]).sum(dim=1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
        gold = gold + self.end[last]
        # log Z by the forward algorithm: alpha[b, j] = log-sum of every path ending in tag j.
        alpha = start + emissions[:, 0]
        for t in range(1, time):
            new = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], new, alpha)
        log_z = torch.logsumexp(alpha + self.end, dim=1)
        return (log_z - gold).mean()

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The highest-scoring tag sequence of each sentence (see :func:`viterbi_decode`)."""
        trans, start = self.transitions + self.constraints, self.start + self.first
        return viterbi_decode(emissions, lengths, trans, start, self.end)


def viterbi_decode(emissions: torch.Tensor, lengths: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                   end: torch.Tensor | None = None) -> torch.Tensor:
    """Best tag sequence for each sentence of a padded batch, ``(batch, time)`` tag ids.

    Maximises ``start[y_1] + sum_t emissions[t, y_t] + sum_t transitions[y_{t-1}, y_t] +
    end[y_T]`` by dynamic programming; positions at or after ``lengths[b]`` are ignored
    (their returned ids are meaningless). ``-inf`` transitions forbid a pair of tags.
    """
    batch, time, n = emissions.shape
    transitions, start = transitions.to(emissions), start.to(emissions)
    lengths = lengths.to(emissions.device)
    score = start + emissions[:, 0]  # best score of a path ending in each tag
    back = []
    identity = torch.arange(n, device=emissions.device).expand(batch, n)
    for t in range(1, time):
        best, arg = (score.unsqueeze(2) + transitions).max(dim=1)  # over the previous tag
        running = (t < lengths).unsqueeze(1)
        score = torch.where(running, best + emissions[:, t], score)  # ended sentences keep theirs
        back.append(torch.where(running, arg, identity))  # ... and point back to themselves
    if end is not None:
        score = score + end.to(emissions)
    path = [score.argmax(dim=1)]
    for arg in reversed(back):  # follow the back-pointers from the last position
        path.append(arg.gather(1, path[-1].unsqueeze(1)).squeeze(1))
    return torch.stack(path[::-1], dim=1)
