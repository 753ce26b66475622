"""Check by simulation that the tests keep their stated error rates.

Each test simulates thousands of experiments at once with numpy and checks a
rate against its stated level, allowing 4 binomial standard errors of
simulation noise (a false failure about once in 30,000 runs). The statistics
are those of `telemetry.statistics`: the t-test is vectorized here, and its
single-experiment form is checked against scipy in tests/test_statistics.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from telemetry import statistics as st

ALPHA = 0.05
LOOKS = np.arange(10, 301, 10)
"""30 looks at a growing log: after 10, 20, ..., 300 pairs."""
SIMS_TWO_SAMPLE = 10_000
"""Simulated A/A experiments per two-sample calibration test."""


def noise(rate: float, sims: int) -> float:
    """Return the allowance for simulation noise: 4 binomial standard errors."""
    return 4 * math.sqrt(rate * (1 - rate) / sims)


def reward_differences(rng: np.random.Generator, sims: int, n: int) -> np.ndarray:
    """Return per-case reward differences of two equally good agents.

    Rewards are 0/1 pass marks with a case-dependent pass rate, so the
    differences are lumpy and bounded, as real eval rewards are.
    """
    p = rng.uniform(0.2, 0.9, size=(sims, n))
    a = rng.random((sims, n)) < p
    b = rng.random((sims, n)) < p
    return a.astype(np.float64) - b.astype(np.float64)


def t_rejects(d: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """Return, per row, whether the paired t-test on the first n rejects 0."""
    prefix = d[..., : int(np.max(n))]
    count = np.arange(1, prefix.shape[-1] + 1)
    mean = np.cumsum(prefix, axis=-1) / count
    square = np.cumsum(prefix**2, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (square - count * mean**2) / (count - 1)
        t = mean / np.sqrt(var / count)
    cols = np.asarray(n) - 1
    critical = sps.t.ppf(1 - ALPHA / 2, np.asarray(n) - 1)
    return np.asarray(np.nan_to_num(np.abs(t[..., cols]), nan=0.0) > critical)


def sequence_misses(d: np.ndarray, mu: float, target_n: int) -> np.ndarray:
    """Return, per row, whether the confidence sequence misses mu at any look."""
    count = np.arange(1, d.shape[-1] + 1)
    mean = np.cumsum(d, axis=-1) / count
    var = (np.cumsum(d**2, axis=-1) - count * mean**2) / np.maximum(count - 1, 1)
    half = np.sqrt(np.maximum(var, 0.0)) * st.confidence_sequence_margin(
        count.astype(np.float64), st.best_rho2(target_n, ALPHA), ALPHA
    )
    miss = np.abs(mean - mu) > half
    return np.asarray(np.any(miss[:, LOOKS - 1], axis=-1))


def mean_bounds(
    values: np.ndarray, alpha: float, target_n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per row and prefix length, the confidence sequence bounds of a mean."""
    count = np.arange(1, values.shape[-1] + 1)
    mean = np.cumsum(values, axis=-1) / count
    square = np.cumsum(values**2, axis=-1)
    var = (square - count * mean**2) / np.maximum(count - 1, 1)
    half = np.sqrt(np.maximum(var, 0.0)) * st.confidence_sequence_margin(
        count.astype(np.float64), st.best_rho2(target_n, alpha), alpha
    )
    return mean - half, mean + half


def test_fixed_test_one_look_keeps_level() -> None:
    rng = np.random.default_rng(101)
    sims = 40_000
    d = reward_differences(rng, sims, 60)

    rate = float(np.mean(t_rejects(d, 60)))

    assert abs(rate - ALPHA) < noise(ALPHA, sims)


def test_fixed_test_matches_paired_difference() -> None:
    rng = np.random.default_rng(102)
    d = reward_differences(rng, 200, 60)
    expected = [
        st.paired_difference(row.tolist(), [0.0] * 60).p_value < ALPHA for row in d
    ]

    assert t_rejects(d, 60).tolist() == expected


def test_welch_one_look_keeps_level() -> None:
    rng = np.random.default_rng(103)
    sims = 20_000
    x = rng.normal(0.5, 0.1, (sims, 40))
    y = rng.normal(0.5, 0.3, (sims, 70))

    p = sps.ttest_ind(x, y, axis=1, equal_var=False).pvalue
    rate = float(np.mean(p < ALPHA))

    assert abs(rate - ALPHA) < noise(ALPHA, sims)


def test_sequential_thirty_looks_keeps_level() -> None:
    rng = np.random.default_rng(104)
    sims = 10_000
    d = reward_differences(rng, sims, int(LOOKS[-1]))

    rate = float(np.mean(sequence_misses(d, 0.0, int(LOOKS[-1]))))

    assert rate <= ALPHA + noise(ALPHA, sims)


def two_sample_misses(sizes_a: np.ndarray, sizes_b: np.ndarray, seed: int) -> float:
    """Return how often the two-sample sequence misses 0 at any of the looks.

    The two agents are equally good: each run passes with a run-dependent
    rate, as in `reward_differences`. Look k reads the first sizes_a[k] runs
    of one agent and the first sizes_b[k] of the other.
    """
    rng = np.random.default_rng(seed)
    n = int(max(sizes_a.max(), sizes_b.max()))
    p = rng.uniform(0.2, 0.9, size=(2, SIMS_TWO_SAMPLE, n))
    a, b = (rng.random((2, SIMS_TWO_SAMPLE, n)) < p).astype(np.float64)
    low_a, high_a = mean_bounds(a, ALPHA / 2, n)
    low_b, high_b = mean_bounds(b, ALPHA / 2, n)

    ia, ib = sizes_a - 1, sizes_b - 1
    above = low_a[:, ia] - high_b[:, ib] > 0
    below = high_a[:, ia] - low_b[:, ib] < 0
    return float(np.mean(np.any(above | below, axis=-1)))


def test_two_sample_even_arrivals_keep_level() -> None:
    rate = two_sample_misses(LOOKS, LOOKS, 107)

    assert rate <= ALPHA + noise(ALPHA, SIMS_TWO_SAMPLE)


def test_two_sample_sequential_runs_keep_level() -> None:
    # As the harness runs agents: the first has finished all its runs before
    # the second starts, and each look reads 10 more runs of the second.
    finished = np.full_like(LOOKS, LOOKS[-1])

    rate = two_sample_misses(finished, LOOKS, 108)

    assert rate <= ALPHA + noise(ALPHA, SIMS_TWO_SAMPLE)


def test_two_sample_bounds_match_statistics() -> None:
    rng = np.random.default_rng(109)
    a, b = rng.random((2, 50, 40))
    low_a, high_a = mean_bounds(a, ALPHA / 2, 40)
    low_b, high_b = mean_bounds(b, ALPHA / 2, 40)

    for row in range(50):
        sequence = st.two_sample_sequence(a[row], b[row, :25], 1 - ALPHA, 40)
        low = low_a[row, 39] - high_b[row, 24]
        high = high_a[row, 39] - low_b[row, 24]
        assert sequence.interval.low == pytest.approx(low, rel=1e-9, abs=1e-12)
        assert sequence.interval.high == pytest.approx(high, rel=1e-9, abs=1e-12)


def test_naive_thirty_looks_exceeds_level() -> None:
    # The failure the sequential mode exists to prevent: rerunning the fixed
    # test at every look rejects a true null far more often than 5%.
    rng = np.random.default_rng(104)
    sims = 10_000
    d = reward_differences(rng, sims, int(LOOKS[-1]))

    rejected = np.any(t_rejects(d[:, None, :], LOOKS), axis=-1)
    rate = float(np.mean(rejected))

    assert rate > ALPHA + noise(ALPHA, sims)


def test_sequential_covers_true_effect() -> None:
    rng = np.random.default_rng(105)
    sims = 10_000
    d = rng.normal(0.05, 0.2, (sims, int(LOOKS[-1])))

    rate = float(np.mean(sequence_misses(d, 0.05, 100)))

    assert rate <= ALPHA + noise(ALPHA, sims)


def test_power_matches_calculation() -> None:
    rng = np.random.default_rng(106)
    sims = 20_000
    effect, sd = 0.05, 0.2
    n = st.required_sample_size(effect, sd)
    expected = st.t_test_power(n, effect, sd)
    d = rng.normal(effect, sd, (sims, n))

    rate = float(np.mean(t_rejects(d, n)))

    assert abs(rate - expected) < noise(expected, sims)
