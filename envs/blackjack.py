"""Exact values for Gymnasium's ``Blackjack-v1`` (infinite deck, dealer stands on all 17s;
by default Sutton & Barto's rules, ``sab=True``, under which a dealt natural wins unless
the dealer has one too), by recursion over the cards still to come.

Monte Carlo and TD prediction are checked against these numbers (Sutton & Barto,
Example 5.1 and Figure 5.1), and control against :func:`optimal_values`.

States are Gymnasium's observations ``(player_sum, dealer_card, usable_ace)``; arrays
here have shape ``(32, 11, 2)`` in that order, NaN where a state cannot occur, which is
the same row-major layout groundup's tabular agents use for Tuple spaces.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

__all__ = ["CARD_PROBS", "dealer_final", "policy_values", "expected_visits", "optimal_values", "optimal_policy", "expected_return",
           "stick_at"]

STICK, HIT = 0, 1
# cards 1 (ace) to 10; ten, jack, queen and king all count 10
CARD_PROBS = {c: (4 if c == 10 else 1) / 13 for c in range(1, 11)}
BUST = 0  # dealer outcome key for a bust (a score of 0, as Gymnasium scores it)


def _hand_sum(raw: int, has_ace: bool) -> tuple[int, bool]:
    """(sum as Gymnasium counts it, whether an ace is usable)."""
    if has_ace and raw + 10 <= 21:
        return raw + 10, True
    return raw, False


@lru_cache(maxsize=None)
def _dealer_from(raw: int, has_ace: bool) -> tuple[tuple[int, float], ...]:
    total, _ = _hand_sum(raw, has_ace)
    if total > 21:
        return ((BUST, 1.0),)
    if total >= 17:
        return ((total, 1.0),)
    out: dict[int, float] = {}
    for card, p in CARD_PROBS.items():
        for score, q in _dealer_from(raw + card, has_ace or card == 1):
            out[score] = out.get(score, 0.0) + p * q
    return tuple(sorted(out.items()))


def dealer_final(showing: int) -> dict[int, float]:
    """Distribution of the dealer's final score (0 = bust) given the card showing; the
    hidden card is just the dealer's next draw."""
    return dict(_dealer_from(showing, showing == 1))


def _stick_value(player_sum: int, showing: int) -> float:
    return sum(p * np.sign(player_sum - score) for score, p in dealer_final(showing).items())


def _values(choose: Callable[[int, int, bool, float, float], float]) -> np.ndarray:
    """Fill (32, 11, 2) by recursion from high sums down; ``choose`` combines the stick
    and hit values of a state into its value."""
    V = np.full((32, 11, 2), np.nan)
    for showing in range(1, 11):
        memo: dict[tuple[int, bool], float] = {}

        def value(raw: int, has_ace: bool) -> float:
            total, usable = _hand_sum(raw, has_ace)
            key = (total, usable)
            if key in memo:
                return memo[key]
            stick = _stick_value(total, showing)
            hit = 0.0
            for card, p in CARD_PROBS.items():
                new_total, _ = _hand_sum(raw + card, has_ace or card == 1)
                hit += p * (-1.0 if new_total > 21 else value(raw + card, has_ace or card == 1))
            memo[key] = choose(total, showing, usable, stick, hit)
            return memo[key]

        for total in range(4, 22):
            V[total, showing, 0] = value(total, False)
        for total in range(12, 22):
            V[total, showing, 1] = value(total - 10, True)
    return V


def _dealer_natural(showing: int) -> float:
    """Probability that the dealer's hidden card makes a natural (ace + ten)."""
    return CARD_PROBS[10] if showing == 1 else CARD_PROBS[1] if showing == 10 else 0.0


def _natural_value(showing: int, sab: bool) -> float:
    """Value of sticking on a dealt natural: under ``sab`` it wins unless the dealer has
    one too; otherwise it is an ordinary 21."""
    return 1.0 - _dealer_natural(showing) if sab else _stick_value(21, showing)


def _visits(policy: Callable[[tuple[int, int, int]], int]) -> tuple[np.ndarray, np.ndarray]:
    """Expected visits of each observation per episode under ``policy``: (by hands dealt
    as naturals, by every other hand). Each hand state is visited at most once."""
    natural = np.zeros((32, 11, 2))
    other = np.zeros((32, 11, 2))
    for d, pd in CARD_PROBS.items():
        frontier: dict[tuple[int, bool], float] = {}
        for c1, p1 in CARD_PROBS.items():
            for c2, p2 in CARD_PROBS.items():
                raw, ace = c1 + c2, 1 in (c1, c2)
                total, usable = _hand_sum(raw, ace)
                if total == 21 and usable:
                    natural[21, d, 1] += pd * p1 * p2
                    continue
                frontier[(raw, ace)] = frontier.get((raw, ace), 0.0) + pd * p1 * p2
        while frontier:  # raw sums only grow, so process the smallest first
            raw, ace = min(frontier)
            p = frontier.pop((raw, ace))
            total, usable = _hand_sum(raw, ace)
            other[total, d, int(usable)] += p
            if policy((total, d, int(usable))) == HIT:
                for card, pc in CARD_PROBS.items():
                    nraw, nace = raw + card, ace or card == 1
                    if _hand_sum(nraw, nace)[0] <= 21:
                        frontier[(nraw, nace)] = frontier.get((nraw, nace), 0.0) + p * pc
    return natural, other


def policy_values(policy: Callable[[tuple[int, int, int]], int], sab: bool = True) -> np.ndarray:
    """V of a deterministic policy ``policy((player_sum, dealer_card, usable_ace)) -> 0 stick / 1 hit``.

    ``sab=True`` is Gymnasium's ``Blackjack-v1`` default (Sutton & Barto's rules): a dealt
    natural wins unless the dealer has one too. The observation (21, d, 1) then covers two
    situations, a dealt natural and a soft 21 reached by hitting, with different values;
    its entry is their average weighted by how often the policy visits each, which is
    exactly what first-visit Monte Carlo prediction estimates there.
    """
    V = _values(lambda total, showing, usable, stick, hit: stick if policy((total, showing, int(usable))) == STICK else hit)
    if sab:
        natural, other = _visits(policy)
        for d in range(1, 11):
            if policy((21, d, 1)) == STICK:
                v_nat = _natural_value(d, sab)
                n, o = natural[21, d, 1], other[21, d, 1]
                V[21, d, 1] = (n * v_nat + o * V[21, d, 1]) / (n + o)
    return V


def expected_visits(policy: Callable[[tuple[int, int, int]], int]) -> np.ndarray:
    """Expected visits of each observation per episode under ``policy``, shape (32, 11, 2):
    the on-policy distribution, once normalised, that weights the error of a prediction
    (Sutton & Barto, section 9.2). A dealt natural counts as a visit of (21, d, 1)."""
    natural, other = _visits(policy)
    return natural + other


def optimal_values() -> np.ndarray:
    """V* over hands that are not dealt naturals (the better of sticking and hitting)."""
    return _values(lambda total, showing, usable, stick, hit: max(stick, hit))


def optimal_policy() -> Callable[[tuple[int, int, int]], int]:
    """An optimal policy (stick where sticking is at least as good as hitting)."""
    table: dict[tuple[int, int, int], int] = {}

    def choose(total: int, showing: int, usable: bool, stick: float, hit: float) -> float:
        table[(total, showing, int(usable))] = STICK if stick >= hit else HIT
        return max(stick, hit)

    _values(choose)
    return lambda obs: table.get((int(obs[0]), int(obs[1]), int(obs[2])), STICK)


def stick_at(threshold: int = 20) -> Callable[[tuple[int, int, int]], int]:
    """The policy of Sutton & Barto's Example 5.1: stick on ``threshold`` or more, else hit."""
    return lambda obs: STICK if obs[0] >= threshold else HIT


def expected_return(policy: Callable[[tuple[int, int, int]], int] | None = None, sab: bool = True) -> float:
    """The exact expected return of a game under ``policy`` (default: an optimal policy)."""
    if policy is None:
        policy = optimal_policy()
    V = _values(lambda total, showing, usable, stick, hit: stick if policy((total, showing, int(usable))) == STICK else hit)
    natural, other = _visits(policy)
    total = 0.0
    for d, pd in CARD_PROBS.items():
        for c1, p1 in CARD_PROBS.items():
            for c2, p2 in CARD_PROBS.items():
                t, usable = _hand_sum(c1 + c2, 1 in (c1, c2))
                if t == 21 and usable and policy((21, d, 1)) == STICK:
                    total += pd * p1 * p2 * _natural_value(d, sab)
                else:
                    total += pd * p1 * p2 * V[t, d, int(usable)]
    return total
