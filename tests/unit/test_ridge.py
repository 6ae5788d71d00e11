"""Streaming ridge regression (docs/decisions.md, D9) against independent NumPy solutions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddmdyn.surrogate.ridge import RidgeAccumulator, RidgeHead


def _data(n=400, f=6, t=3, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((f, f))
    x = rng.standard_normal((n, f)) @ mix + offset + rng.standard_normal(f)
    a = rng.standard_normal((f, t))
    y = x @ a + rng.standard_normal(t) + 0.1 * rng.standard_normal((n, t))
    return x, y, a


def _fit(x, y, l2, batches=1):
    acc = RidgeAccumulator(x.shape[1], y.shape[1])
    for xb, yb in zip(np.array_split(x, batches), np.array_split(y, batches), strict=True):
        acc.update(xb, yb)
    return acc.solve(l2)


def _predict(head: RidgeHead, x: np.ndarray) -> np.ndarray:
    return head(torch.as_tensor(x, dtype=torch.float64)).numpy()


def test_small_lambda_matches_numpy_least_squares():
    x, y, _ = _data()
    head = _fit(x, y, l2=1e-12)
    design = np.hstack([x, np.ones((len(x), 1))])
    sol = np.linalg.lstsq(design, y, rcond=None)[0]
    a, b = head.coefficients()
    np.testing.assert_allclose(a.numpy(), sol[:-1], rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(b.numpy(), sol[-1], rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(_predict(head, x), design @ sol, atol=1e-8)


@pytest.mark.parametrize("l2", [1e-4, 0.3, 5.0])
def test_matches_standardised_ridge_formula(l2):
    x, y, _ = _data(n=300, f=5, seed=1)
    n = len(x)
    mu = x.mean(0)
    std = np.sqrt(((x - mu) ** 2).sum(0) / (n + 1))  # the paper's N + 1 convention
    z = (x - mu) / std
    r = z.T @ z / (n + 1)
    c = z.T @ (y - y.mean(0)) / (n + 1)
    w = np.linalg.solve(r + l2 * np.eye(x.shape[1]), c)
    head = _fit(x, y, l2)
    np.testing.assert_allclose(head.mean.numpy(), mu, rtol=1e-12)
    np.testing.assert_allclose(head.std.numpy(), std, rtol=1e-12)
    np.testing.assert_allclose(head.weight.numpy(), w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(head.bias.numpy(), y.mean(0), rtol=1e-12)
    np.testing.assert_allclose(_predict(head, x), z @ w + y.mean(0), atol=1e-10)


def test_recovers_known_linear_map_exactly():
    rng = np.random.default_rng(2)
    # large feature means: the centred statistics must not lose precision
    x = rng.standard_normal((1000, 8)) * rng.uniform(0.1, 10, 8) + rng.uniform(-50, 50, 8)
    a = rng.standard_normal((8, 3))
    b = rng.standard_normal(3)
    y = x @ a + b
    head = _fit(x, y, l2=0.0, batches=7)
    a_hat, b_hat = head.coefficients()
    np.testing.assert_allclose(a_hat.numpy(), a, atol=1e-8)
    np.testing.assert_allclose(b_hat.numpy(), b, atol=1e-8)


def test_streaming_equals_one_batch():
    x, y, _ = _data(n=1000, f=7, seed=3, offset=20.0)
    one = _fit(x, y, 1e-4, batches=1)
    # uneven batches, including a batch of one sample
    acc = RidgeAccumulator(7, 3)
    for lo, hi in [(0, 1), (1, 130), (130, 131), (131, 777), (777, 1000)]:
        acc.update(torch.as_tensor(x[lo:hi], dtype=torch.float64), y[lo:hi])
    many = acc.solve(1e-4)
    for name in ("mean", "std", "weight", "bias"):
        np.testing.assert_allclose(
            getattr(many, name).numpy(), getattr(one, name).numpy(), rtol=1e-10, atol=1e-12
        )


def test_constant_feature_gets_unit_std_and_no_weight():
    x, y, _ = _data(n=200, f=4, seed=4)
    x = np.hstack([x, np.full((200, 1), 3.0)])
    head = _fit(x, y, 1e-4)
    assert head.std[-1].item() == 1.0
    assert abs(head.weight[-1]).max().item() < 1e-12
    ref = _fit(x[:, :-1], y, 1e-4)
    np.testing.assert_allclose(head.weight[:-1].numpy(), ref.weight.numpy(), rtol=1e-10)


def test_singular_system_falls_back_to_least_squares():
    x, y, _ = _data(n=200, f=3, seed=5)
    x = np.hstack([x, x[:, :1]])  # duplicated feature: R is singular, lambda = 0
    head = _fit(x, y, l2=0.0)
    design = np.hstack([x[:, :3], np.ones((200, 1))])
    sol = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(_predict(head, x), design @ sol, atol=1e-8)


def test_head_runs_in_input_dtype_and_round_trips_state_dict():
    x, y, _ = _data(n=100, f=4, seed=6)
    head = _fit(x, y, 1e-4)
    out32 = head(torch.as_tensor(x, dtype=torch.float32))
    assert out32.dtype == torch.float32
    np.testing.assert_allclose(out32.numpy(), _predict(head, x), rtol=1e-4, atol=1e-4)
    other = RidgeHead.empty(4, 3)
    other.load_state_dict(head.state_dict())
    np.testing.assert_allclose(_predict(other, x), _predict(head, x), rtol=1e-12, atol=1e-14)


def test_rejects_wrong_shapes_and_empty_solve():
    acc = RidgeAccumulator(4, 3)
    with pytest.raises(ValueError):
        acc.solve()
    with pytest.raises(ValueError):
        acc.update(np.zeros((5, 3)), np.zeros((5, 3)))
