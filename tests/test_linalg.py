"""groundup.linalg.randomized_svd against the exact SVD, through products alone."""

from __future__ import annotations

import torch

from groundup.linalg import one_thread, randomized_svd


def test_randomized_svd_recovers_a_low_rank_matrix_exactly_from_products_alone():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(300, 8, generator=gen, dtype=torch.float64) @ torch.randn(8, 120, generator=gen, dtype=torch.float64)
    calls = []
    matmul = lambda q: calls.append("A") or A @ q  # noqa: E731
    rmatmul = lambda p: calls.append("At") or A.T @ p  # noqa: E731
    U, S, Vt = randomized_svd(matmul, rmatmul, 120, 12, power_iterations=2, generator=torch.Generator().manual_seed(1),
                              dtype=torch.float64)
    assert U.shape == (300, 12) and S.shape == (12,) and Vt.shape == (12, 120)
    exact = torch.linalg.svdvals(A)
    assert torch.allclose(S[:8], exact[:8], rtol=1e-10) and S[8:].abs().max() < 1e-8 * exact[0]  # rank 8: the rest is 0
    assert torch.allclose((U[:, :8] * S[:8]) @ Vt[:8], A, atol=1e-9)
    assert calls == ["A"] + ["At", "A"] * 2 + ["At"]  # one product to start, two per power iteration, one to project
    none, S2, _ = randomized_svd(A.__matmul__, A.T.__matmul__, 120, 12, power_iterations=2,
                                 generator=torch.Generator().manual_seed(1), dtype=torch.float64, compute_u=False)
    assert none is None and torch.equal(S2, S)  # the same draws and products, without forming U


def test_the_small_factorisations_run_on_one_thread_and_restore_the_count():
    before = torch.get_num_threads()
    assert one_thread(torch.get_num_threads) == 1
    assert torch.get_num_threads() == before
