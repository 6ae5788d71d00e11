"""Tests of ddmdyn.metrics.generation against analytic results and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from ddmdyn.metrics.generation import (
    GaussianStatsAccumulator,
    extreme_quantiles,
    extreme_value_ratio_from_quantiles,
    frechet_distance,
    generation_scores,
    hellinger_from_counts,
    histogram3d,
    mean_nn_sq_dist,
    nearest_neighbour_sq_dist,
    noise_floor_subsets,
)


def hellinger(x: np.ndarray, y: np.ndarray) -> float:
    """Hellinger distance between the 3-D histograms of two state sets (as the scores do)."""
    return hellinger_from_counts(histogram3d(x), histogram3d(y))


def extreme_value_ratio(generated: np.ndarray, reference: np.ndarray) -> float:
    """Extreme-value ratio against the reference's 1 % / 99 % quantiles (as the scores do)."""
    return extreme_value_ratio_from_quantiles(generated, *extreme_quantiles(reference))


def _brute_nn_sq(query: np.ndarray, ref: np.ndarray) -> np.ndarray:
    q = query.astype(np.float64)
    r = ref.astype(np.float64)
    d = q[:, None, :] - r[None, :, :]
    return np.min(np.einsum("ijk,ijk->ij", d, d), axis=1)


# ---------------------------------------------------------------- histograms and Hellinger


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_histogram_equals_histogramdd(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(scale=1.6, size=(20000, 3)).astype(dtype)
    edges = np.linspace(-3.5, 3.5, 71)
    # points exactly on edges (including lo and hi), outside the box and NaN
    x[:71, 0] = edges
    x[71:142, 1] = edges
    x[142:213, 2] = edges
    x[213] = [3.5, -3.5, 3.5]
    x[214] = [3.5000001, 0.0, 0.0]
    x[215] = [np.nan, 0.0, 0.0]
    ref, _ = np.histogramdd(x, bins=[edges] * 3)
    counts = histogram3d(x)
    assert counts.shape == (70, 70, 70) and counts.dtype == np.int64
    np.testing.assert_array_equal(counts, ref.astype(np.int64))


def test_histogram_chunked_and_incremental_equal_one_shot():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5000, 3))
    full = histogram3d(x, n_bins=7)
    chunked = histogram3d(x, n_bins=7, chunk_size=333)
    acc = np.zeros((7, 7, 7), dtype=np.int64)
    for part in np.array_split(x, 4):
        histogram3d(part, n_bins=7, out=acc)
    np.testing.assert_array_equal(full, chunked)
    np.testing.assert_array_equal(full, acc)
    assert full.sum() == np.all(np.abs(x) <= 3.5, axis=1).sum()


def test_hellinger_identical_is_zero_and_disjoint_is_one():
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 50, size=(4, 4, 4))
    assert hellinger_from_counts(counts, 3 * counts) == pytest.approx(0.0, abs=1e-15)
    p = np.zeros((4, 4, 4))
    q = np.zeros((4, 4, 4))
    p[0, 0, :2] = [3, 1]
    q[3, 3, 3] = 7
    assert hellinger_from_counts(p, q) == pytest.approx(1.0, abs=1e-15)


def test_hellinger_hand_computed():
    # p = (1/2, 1/2, 0), q = (1/4, 1/4, 1/2):
    # 1/2 sum (sqrt p - sqrt q)^2 = (sqrt(1/2) - 1/2)^2 + 1/4 = 1 - sqrt(1/2)
    p = np.array([2.0, 2.0, 0.0])
    q = np.array([1.0, 1.0, 2.0])
    expected = np.sqrt(1.0 - np.sqrt(0.5))
    assert hellinger_from_counts(p, q) == pytest.approx(expected, rel=1e-14)


def test_hellinger_of_point_sets():
    a = np.array([[0.05, 0.05, 0.05], [0.05, 0.05, 0.05], [1.05, 0.05, 0.05]])
    b = np.array([[0.05, 0.05, 0.05], [2.05, 0.05, 0.05]])
    # p = (2/3, 1/3, 0), q = (1/2, 0, 1/2) on three distinct cells
    h2 = 0.5 * ((np.sqrt(2 / 3) - np.sqrt(0.5)) ** 2 + 1 / 3 + 0.5)
    assert hellinger(a, b) == pytest.approx(np.sqrt(h2), rel=1e-14)


def test_hellinger_of_empty_histogram_is_nan_with_warning():
    with pytest.warns(UserWarning, match="empty histogram"):
        assert np.isnan(hellinger_from_counts(np.zeros(3), np.ones(3)))


# ---------------------------------------------------------------- Frechet


def test_frechet_commuting_covariances_closed_form():
    rng = np.random.default_rng(3)
    d = 6
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    l1 = rng.uniform(0.1, 3.0, size=d)
    l2 = rng.uniform(0.1, 3.0, size=d)
    cov1 = q @ np.diag(l1) @ q.T
    cov2 = q @ np.diag(l2) @ q.T  # same eigenvectors: sqrt(S1 S2) = Q diag(sqrt(l1 l2)) Q^T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(l1) - np.sqrt(l2)) ** 2)
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-10)


def test_frechet_univariate_and_self():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)
    rng = np.random.default_rng(4)
    a = rng.normal(size=(10, 5))
    cov = a.T @ a / 9
    assert frechet_distance(np.zeros(5), cov, np.zeros(5), cov) == pytest.approx(0.0, abs=1e-10)


def test_frechet_general_matches_symmetric_form():
    # Tr sqrt(S1 S2) = Tr sqrt(S1^1/2 S2 S1^1/2), an independent symmetric computation
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(20, 4)), rng.normal(size=(20, 4)) * [1, 2, 3, 0.5]
    c1, c2 = np.cov(a.T), np.cov(b.T)
    r1 = scipy.linalg.sqrtm(c1).real
    tr = np.sum(np.sqrt(np.linalg.eigvalsh(r1 @ c2 @ r1).clip(0)))
    expected = np.trace(c1) + np.trace(c2) - 2 * tr
    assert frechet_distance(np.zeros(4), c1, np.zeros(4), c2) == pytest.approx(expected, rel=1e-9)


def test_gaussian_stats_streaming_matches_numpy():
    rng = np.random.default_rng(6)
    f = rng.normal(loc=100.0, scale=0.5, size=(1001, 7)).astype(np.float32)
    acc = GaussianStatsAccumulator()
    for start in range(0, len(f), 97):
        acc.update(f[start : start + 97])
    mean, cov = acc.mean, acc.cov
    ref = f.astype(np.float64)
    np.testing.assert_allclose(mean, ref.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(cov, np.cov(ref.T), rtol=1e-10, atol=1e-14)
    acc = GaussianStatsAccumulator()
    for part in np.array_split(f, 5):
        acc.update(part)
    assert acc.n == 1001
    np.testing.assert_allclose(acc.cov, cov, rtol=1e-12)


# ---------------------------------------------------------------- nearest neighbours


def test_nn_sq_dist_matches_brute_force_exactly():
    rng = np.random.default_rng(7)
    query = rng.normal(size=(300, 3)).astype(np.float32)
    ref = rng.normal(size=(500, 3)).astype(np.float32)
    got = nearest_neighbour_sq_dist(query, ref, chunk_size=64)
    np.testing.assert_array_equal(got, _brute_nn_sq(query, ref))
    assert mean_nn_sq_dist(query, ref) == pytest.approx(_brute_nn_sq(query, ref).mean(), rel=1e-14)
    # asymmetry of the two directions: dist_gen vs dist_test
    assert mean_nn_sq_dist(ref, query) == pytest.approx(_brute_nn_sq(ref, query).mean(), rel=1e-14)


def test_nn_sq_dist_zero_for_members():
    rng = np.random.default_rng(8)
    ref = rng.normal(size=(200, 3))
    np.testing.assert_array_equal(nearest_neighbour_sq_dist(ref[::3], ref), 0.0)


# ---------------------------------------------------------------- extremes


def test_extreme_ratio_of_reference_samples_is_two_percent():
    rng = np.random.default_rng(9)
    ref = rng.normal(size=(200000, 3)) * [1.0, 2.0, 0.5]
    gen = rng.normal(size=(100000, 3)) * [1.0, 2.0, 0.5]
    assert extreme_value_ratio(gen, ref) == pytest.approx(0.02, abs=0.0015)
    # a generator that is too narrow never reaches the tails
    assert extreme_value_ratio(0.3 * gen, ref) < 1e-4


def test_extreme_ratio_hand_computed():
    ref = np.repeat(np.arange(101.0)[:, None], 3, axis=1)  # 1 % / 99 % quantiles: 1 and 99
    gen = np.array([[0.0, 50.0, 99.0], [1.0, 50.0, 50.0], [50.0, 100.0, 50.0], [50.0] * 3])
    # 2 values <= 1, 2 values >= 99 among 12
    assert extreme_value_ratio(gen, ref) == pytest.approx(4 / 12)


# ---------------------------------------------------------------- noise floor


def test_noise_floor_subsets_disjoint_and_sized():
    a, b = noise_floor_subsets(1000, 400, np.random.default_rng(10))
    assert a.shape == (400,) and b.shape == (400,)
    assert len(np.unique(a)) == 400 and len(np.unique(b)) == 400
    assert np.intersect1d(a, b).size == 0
    assert a.min() >= 0 and max(a.max(), b.max()) < 1000
    a2, b2 = noise_floor_subsets(1000, 400, 10)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    with pytest.raises(ValueError, match="disjoint"):
        noise_floor_subsets(1000, 501, 0)


def test_generation_scores_consistent_with_parts():
    rng = np.random.default_rng(11)
    ref = rng.normal(size=(6000, 3))
    gen = rng.normal(size=(1500, 3)) * 1.2

    def feature_fn(x):
        return np.concatenate([x, np.maximum(x, 0.0), x[:, :1] * x[:, 1:2]], axis=1)

    s = generation_scores(gen, ref, feature_fn=feature_fn, rng=12, chunk_size=1000)
    a, b = noise_floor_subsets(6000, 1500, 12)
    assert s["hellinger"] == pytest.approx(hellinger(gen, ref))
    assert s["hellinger_floor"] == pytest.approx(hellinger(ref[a], ref[b]))
    assert s["hellinger_matched"] == pytest.approx(hellinger(gen, ref[b]))
    assert s["dist_gen"] == pytest.approx(_brute_nn_sq(gen, ref).mean(), rel=1e-12)
    assert s["dist_test"] == pytest.approx(_brute_nn_sq(ref, gen).mean(), rel=1e-12)
    assert s["dist_gen_floor"] == pytest.approx(_brute_nn_sq(ref[a], ref[b]).mean(), rel=1e-12)
    assert s["dist_test_floor"] == pytest.approx(_brute_nn_sq(ref[b], ref[a]).mean(), rel=1e-12)
    assert s["extreme"] == pytest.approx(extreme_value_ratio(gen, ref))
    assert s["extreme_floor"] == pytest.approx(extreme_value_ratio(ref[a], ref[b]))
    fa, fb = feature_fn(ref[a]), feature_fn(ref[b])
    fd_floor = frechet_distance(fa.mean(0), np.cov(fa.T), fb.mean(0), np.cov(fb.T))
    assert s["frechet_floor"] == pytest.approx(fd_floor, rel=1e-9)
    # the wider generator is measurably worse than the floor on every score
    for key in ("hellinger", "frechet", "extreme"):
        assert s[f"{key}_matched"] > s[f"{key}_floor"]
    assert s["dist_gen_matched"] > s["dist_gen_floor"]
    with pytest.raises(ValueError, match="disjoint"):
        generation_scores(ref[:4000], ref, rng=0)


def test_gaussian_stats_accepts_torch_chunks():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    f = rng.normal(size=(300, 4))
    acc = GaussianStatsAccumulator()
    for part in np.array_split(f, 3):
        acc.update(torch.as_tensor(part))
    acc.update(np.zeros((0, 4)))
    np.testing.assert_allclose(acc.mean, f.mean(0), rtol=1e-13)
    np.testing.assert_allclose(acc.cov, np.cov(f.T), rtol=1e-12)
    with pytest.raises(ValueError):
        acc.update(np.zeros(4))
