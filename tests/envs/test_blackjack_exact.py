import gymnasium as gym
import numpy as np

from groundup.envs import blackjack


def test_book_value_of_the_stick_on_20_policy():
    V = blackjack.policy_values(blackjack.stick_at(20))
    assert abs(V[13, 2, 1] - (-0.2773)) < 1e-3  # Sutton & Barto, Example 5.4
    assert np.isnan(V[3, 5, 0]) and np.isnan(V[11, 5, 1])  # impossible states
    assert abs(blackjack.expected_return(blackjack.stick_at(20)) - (-0.3501)) < 1e-3


def test_dealer_outcomes_are_a_distribution():
    for showing in range(1, 11):
        dist = blackjack.dealer_final(showing)
        assert np.isclose(sum(dist.values()), 1.0)
        assert set(dist) <= {0, 17, 18, 19, 20, 21}


def test_optimal_play_is_about_minus_0043_and_beats_the_book_policy():
    opt = blackjack.expected_return()
    assert -0.0445 < opt < -0.042
    assert opt > blackjack.expected_return(blackjack.stick_at(17))


def test_exact_values_match_gymnasium_by_simulation():
    env = gym.make("Blackjack-v1")
    policy = blackjack.stick_at(20)
    obs, _ = env.reset(seed=0)
    n = 60_000
    returns = np.empty(n)
    for i in range(n):
        while True:
            obs, r, terminated, truncated, _ = env.step(policy(obs))
            if terminated or truncated:
                break
        returns[i] = r
        obs, _ = env.reset()
    exact = blackjack.expected_return(policy)
    assert abs(returns.mean() - exact) < 4 * returns.std() / np.sqrt(n)
