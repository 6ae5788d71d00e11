"""Counter-based normal generator: distribution, independence, determinism, batch invariance."""

import numpy as np
import pytest
import torch
from scipy import stats

from ddmdyn.rng import counter_key, counter_normal, counter_uniform, hash32

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def test_hash32_is_a_bijection_on_a_sample_and_stays_32_bit():
    x = torch.arange(0, 2**20, dtype=torch.int64) * 4093 + (2**32 - 2**22)
    x = x & 0xFFFFFFFF
    h = hash32(x)
    assert int(h.min()) >= 0 and int(h.max()) < 2**32
    assert torch.unique(h).numel() == torch.unique(x).numel()


def test_hash32_matches_reference_python_implementation():
    def ref(v):  # lowbias32 in unbounded Python integers
        v ^= v >> 16
        v = (v * 0x7FEB352D) & 0xFFFFFFFF
        v ^= v >> 15
        v = (v * 0x846CA68B) & 0xFFFFFFFF
        return v ^ (v >> 16)

    xs = [0, 1, 2, 12345, 2**31 - 1, 2**31, 2**32 - 1, 0xDEADBEEF]
    got = hash32(torch.tensor(xs, dtype=torch.int64)).tolist()
    assert got == [ref(v) for v in xs]


def test_moments_and_normality():
    x = counter_normal(7, torch.arange(100_000), n=1).reshape(-1).double().numpy()
    assert abs(x.mean()) < 4 / np.sqrt(x.size)
    assert abs(x.var() - 1) < 4 * np.sqrt(2 / x.size)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    # tails: fraction beyond 3 sigma close to 0.0027
    frac = np.mean(np.abs(x) > 3)
    assert abs(frac - 0.0027) < 5 * np.sqrt(0.0027 / x.size)


def test_uniforms_are_uniform_and_in_open_interval():
    u = counter_uniform(1, torch.arange(50_000), n=2).reshape(-1).numpy()
    assert u.min() > 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("axis", ["id", "step", "component"])
def test_no_correlation_between_neighbours(axis):
    n = 40_000
    if axis == "id":
        x = counter_normal(3, torch.arange(n + 1), 5, n=1)[:, 0]
        a, b = x[:-1], x[1:]
    elif axis == "step":
        ids = torch.arange(n)
        a = counter_normal(3, ids, 5, n=1)[:, 0]
        b = counter_normal(3, ids, 6, n=1)[:, 0]
    else:
        x = counter_normal(3, torch.arange(n), 5, n=2)
        a, b = x[:, 0], x[:, 1]
    r = np.corrcoef(a.numpy(), b.numpy())[0, 1]
    assert abs(r) < 4 / np.sqrt(n)


def test_seeds_and_key_order_give_different_streams():
    ids = torch.arange(20_000)
    a = counter_normal(0, ids, n=1)[:, 0].numpy()
    b = counter_normal(1, ids, n=1)[:, 0].numpy()
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(ids.numel())
    c = counter_normal(0, 1, 2, n=3)
    d = counter_normal(0, 2, 1, n=3)
    assert not torch.equal(c, d)
    # a key split into (lo, hi) 32-bit words: keys differing only in the high word differ
    e = counter_normal(0, 5, n=3)
    f = counter_normal(0, 5 + 2**32, n=3)
    assert not torch.equal(e, f)


def test_deterministic_and_batch_invariant():
    ids = torch.arange(1000)
    full = counter_normal(42, ids, 3, n=3)
    again = counter_normal(42, ids, 3, n=3)
    assert torch.equal(full, again)
    subset = torch.tensor([5, 999, 17, 17])
    assert torch.equal(counter_normal(42, subset, 3, n=3), full[subset])
    # scalar keys equal the matching tensor rows, components do not depend on n
    assert torch.equal(counter_normal(42, 17, 3, n=3), full[17])
    assert torch.equal(counter_normal(42, ids, 3, n=5)[:, :3], full)


def test_broadcasting_and_prefix_keys():
    ids = torch.arange(6).view(6, 1)
    steps = torch.arange(4).view(1, 4)
    x = counter_normal(9, ids, steps, n=3)
    assert x.shape == (6, 4, 3)
    assert torch.equal(x[2, 3], counter_normal(9, 2, 3, n=3))
    key = counter_key(9, ids.view(-1))
    assert torch.equal(key.extend(3).normal(3), x[:, 3])
    assert torch.equal(key.index(torch.tensor([4, 1])).extend(2).normal(3), x[[4, 1], 2])


def test_negative_and_large_keys_and_dtype():
    x = counter_normal(2**63 + 5, -3, 2**40, n=4, dtype=torch.float64)
    assert x.dtype == torch.float64 and torch.isfinite(x).all()
    with pytest.raises(TypeError):
        counter_normal(0, torch.tensor([1.0]), n=1)
