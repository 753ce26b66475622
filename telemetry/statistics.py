"""Compute the estimates, intervals and tests behind agent comparisons.

Cases are treated as a sample from the population of tasks an agent will meet,
so every figure comes with a standard error or an interval. When the same cases
run through two agents, per-case differences remove the case-to-case variance
(paired analysis). When cases come in clusters (variants of one task), the
standard error of the mean difference is cluster-robust.

A fixed-horizon test is valid for one look at a sample size chosen in advance.
Re-running it every time someone looks at a growing log inflates the false
positive rate. `confidence_sequence` stays valid under continuous monitoring:
it is the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha,
Kennedy and Ramdas, "Time-uniform central limit theory and asymptotic
confidence sequences", built on the normal-mixture boundary of Howard, Ramdas,
McAuliffe and Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence
sequences", Annals of Statistics 2021.

This module needs numpy and scipy (the ``analysis`` extra). Nothing in the
logging path imports it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

__all__ = [
    "BOOTSTRAP_ENTROPY",
    "BOOTSTRAP_RESAMPLES",
    "MAX_SAMPLE_SIZE",
    "ConfidenceSequence",
    "Interval",
    "McNemarResult",
    "MeanDifference",
    "QuantileEstimate",
    "Sample",
    "TwoSampleSequence",
    "best_rho2",
    "bootstrap_quantile",
    "cluster_robust_mean",
    "confidence_sequence",
    "confidence_sequence_margin",
    "holm_adjust",
    "mcnemar",
    "paired_difference",
    "proportion_sequence",
    "required_sample_size",
    "t_test_power",
    "two_sample_sequence",
    "welch_difference",
    "wilson_interval",
]

BOOTSTRAP_ENTROPY = 20240601
"""Fixed entropy of the bootstrap generator, so reruns give identical intervals."""

BOOTSTRAP_RESAMPLES = 10_000
"""Bootstrap resamples per quantile; Monte Carlo error of the bounds is ~1%."""

MAX_SAMPLE_SIZE = 10**9
"""Largest sample size `required_sample_size` reports; beyond it, None."""

_MCNEMAR_EXACT_BELOW = 25
"""Discordant pairs below which McNemar uses the exact binomial test."""

_MAX_NONCENTRALITY = 1e6
"""Noncentrality beyond which a t-test's power is 1.0 in double precision."""

_OVERFLOW_TO_INF = np.errstate(over="ignore", invalid="ignore")
"""Silence numpy where values near the double limit square to inf: the inf
or nan it returns is the figure, and the callers report it as such."""

Design = Literal["paired", "two-sample"]
FloatArray = NDArray[np.float64]
Sample = Sequence[float] | FloatArray
"""Observations: a sequence of numbers or a 1-D float array."""


@dataclass(frozen=True)
class Interval:
    """A closed interval [low, high] for an unknown quantity."""

    low: float
    high: float

    def excludes(self, value: float = 0.0) -> bool:
        """Return True when value lies outside the interval."""
        return value < self.low or value > self.high


@dataclass(frozen=True)
class MeanDifference:
    """A mean (or mean difference) with its standard error, interval and test.

    Attributes:
        estimate: Point estimate, in the unit of the data.
        se: Standard error of the estimate.
        interval: Confidence interval at the requested level.
        statistic: t statistic against zero.
        df: Degrees of freedom of the reference t distribution.
        p_value: Two-sided p-value against zero.
        n: Number of pairs, or total observations for an unpaired test.
        method: "paired t", "Welch" or "cluster-robust".
    """

    estimate: float
    se: float
    interval: Interval
    statistic: float
    df: float
    p_value: float
    n: int
    method: str


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test for paired pass/fail outcomes.

    Attributes:
        b: Pairs where the first agent passes and the second fails.
        c: Pairs where the first agent fails and the second passes.
        statistic: Chi-square statistic, or None for the exact test.
        p_value: Two-sided p-value.
        method: "exact binomial" or "chi-square".
    """

    b: int
    c: int
    statistic: float | None
    p_value: float
    method: str


@dataclass(frozen=True)
class QuantileEstimate:
    """A sample quantile with its percentile-bootstrap interval."""

    q: float
    estimate: float
    interval: Interval


@dataclass(frozen=True)
class ConfidenceSequence:
    """The current interval of an asymptotic confidence sequence for a mean.

    Attributes:
        estimate: Running mean after n observations.
        interval: Interval valid simultaneously over all n, at the stated level.
        n: Observations so far.
        target_n: Sample size at which the boundary was tuned to be tightest.
        rho2: Mixture tuning parameter derived from target_n.
    """

    estimate: float
    interval: Interval
    n: int
    target_n: int
    rho2: float


@dataclass(frozen=True)
class TwoSampleSequence:
    """The current interval of a confidence sequence for a difference of means.

    Attributes:
        estimate: Difference of the running means, first - second.
        interval: Interval for the difference, valid simultaneously over all
            sample sizes of both samples, at the stated level.
        n: Observations so far, both samples together.
        first: Sequence for the first mean, at half the error budget.
        second: Sequence for the second mean, at half the error budget.
    """

    estimate: float
    interval: Interval
    n: int
    first: ConfidenceSequence
    second: ConfidenceSequence


@_OVERFLOW_TO_INF
def paired_difference(x: Sample, y: Sample, confidence: float = 0.95) -> MeanDifference:
    """Estimate mean(x - y) over paired observations with a paired t-test.

    Args:
        x: Values of the first agent, one per case.
        y: Values of the second agent for the same cases, in the same order.
        confidence: Level of the interval, in (0, 1).

    Raises:
        ValueError: If lengths differ or fewer than 2 pairs are given.
    """
    a, b = _array(x, "x"), _array(y, "y")
    if a.size != b.size:
        raise ValueError(
            f"x and y must have the same length for pairing, got {a.size} and {b.size}"
        )

    d = a - b
    _require_size(d, 2, "x and y", "pairs")
    se = float(np.std(d, ddof=1) / math.sqrt(d.size))
    return _t_result(float(d.mean()), se, d.size - 1, d.size, confidence, "paired t")


@_OVERFLOW_TO_INF
def welch_difference(x: Sample, y: Sample, confidence: float = 0.95) -> MeanDifference:
    """Estimate mean(x) - mean(y) for independent samples with Welch's t-test.

    Raises:
        ValueError: If either sample has fewer than 2 values.
    """
    a, b = _array(x, "x"), _array(y, "y")
    _require_size(a, 2, "x")
    _require_size(b, 2, "y")

    va, vb = np.var(a, ddof=1) / a.size, np.var(b, ddof=1) / b.size
    se = float(math.sqrt(va + vb))
    if va + vb > 0:
        df = float((va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)))
    else:
        df = float(a.size + b.size - 2)
    estimate = float(a.mean() - b.mean())
    return _t_result(estimate, se, df, a.size + b.size, confidence, "Welch")


@_OVERFLOW_TO_INF
def cluster_robust_mean(
    values: Sample, clusters: Sequence[str], confidence: float = 0.95
) -> MeanDifference:
    """Estimate a mean with a cluster-robust (CR1) standard error.

    The variance is G/(G-1) * sum_g (sum of residuals in g)^2 / n^2 for G
    clusters, where G/(G-1) is the small-cluster correction. The interval
    uses a t distribution with G-1 degrees of freedom. With one value
    per cluster this reduces to the ordinary standard error s/sqrt(n).

    Args:
        values: Per-case values, usually paired differences.
        clusters: Cluster label of each value.
        confidence: Level of the interval, in (0, 1).

    Raises:
        ValueError: If lengths differ or there are fewer than 2 clusters.
    """
    v = _array(values, "values")
    if v.size != len(clusters):
        raise ValueError(
            f"clusters must have one label per value, got {len(clusters)} labels "
            f"for {v.size} values"
        )

    labels, index = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    if labels.size < 2:
        raise ValueError(
            f"clusters must name at least 2 distinct clusters, got {labels.size}"
        )
    mean = float(v.mean())
    sums = np.bincount(index, weights=v - mean)
    g = labels.size
    se = float(math.sqrt(g / (g - 1) * float(np.sum(sums**2)) / v.size**2))
    return _t_result(mean, se, g - 1, v.size, confidence, "cluster-robust")


def mcnemar(b: int, c: int) -> McNemarResult:
    """Test paired pass/fail outcomes for a difference in pass rate.

    Uses the exact two-sided binomial test on the discordant pairs when
    b + c < 25, McNemar's chi-square statistic (b - c)^2 / (b + c) otherwise.

    Args:
        b: Cases the first agent passes and the second fails.
        c: Cases the first agent fails and the second passes.

    Raises:
        ValueError: If a count is negative.
    """
    for name, count in (("b", b), ("c", c)):
        if count < 0:
            raise ValueError(f"{name} must be a count >= 0, got {count}")

    n = b + c
    if n == 0:
        return McNemarResult(b, c, None, 1.0, "exact binomial")
    if n < _MCNEMAR_EXACT_BELOW:
        p = min(1.0, 2.0 * float(stats.binom.cdf(min(b, c), n, 0.5)))
        return McNemarResult(b, c, None, p, "exact binomial")
    chi2 = (b - c) ** 2 / n
    return McNemarResult(b, c, chi2, float(stats.chi2.sf(chi2, 1)), "chi-square")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Return the Wilson score interval for a proportion such as an error rate.

    Raises:
        ValueError: If n < 1 or successes is outside [0, n].
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n={n}], got {successes}")

    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(max(0.0, center - half), min(1.0, center + half))


def bootstrap_quantile(
    values: Sample,
    q: float,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> QuantileEstimate:
    """Estimate a quantile (q=0.95 for p95) with a percentile-bootstrap interval.

    Each resample's quantile is drawn directly from its exact distribution: the
    k-th order statistic of a resample of n values is the empirical quantile at
    the k-th order statistic of n uniforms, a Beta(k, n-k+1) variable. This is
    the ordinary resampling bootstrap, at O(resamples) cost whatever n is. The
    generator uses the fixed `BOOTSTRAP_ENTROPY`, so results are reproducible.

    Args:
        values: Observations, e.g. latencies in ms.
        q: Quantile in [0, 1], linear interpolation as numpy's default.
        confidence: Level of the interval, in (0, 1).
        resamples: Number of bootstrap resamples.

    Raises:
        ValueError: If values is empty or q is outside [0, 1].
    """
    x = np.sort(_array(values, "values"))
    _require_size(x, 1, "values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")

    rng = np.random.default_rng(BOOTSTRAP_ENTROPY)
    n = x.size
    position = (n - 1) * q
    k = math.floor(position)
    fraction = position - k
    u_low = rng.beta(k + 1, n - k, size=resamples)
    low = x[np.minimum((u_low * n).astype(np.int64), n - 1)]
    if k + 1 < n:
        u_high = u_low + (1 - u_low) * rng.beta(1, n - k - 1, size=resamples)
        high = x[np.minimum((u_high * n).astype(np.int64), n - 1)]
    else:
        high = low
    draws = (1 - fraction) * low + fraction * high

    alpha = _alpha(confidence)
    bounds = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    interval = Interval(float(bounds[0]), float(bounds[1]))
    return QuantileEstimate(q, float(np.quantile(x, q)), interval)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Return Holm step-down adjusted p-values, in the input order.

    Rejecting where the adjusted p-value is below alpha controls the
    family-wise error rate at alpha.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def t_test_power(
    n: int,
    effect: float,
    sd: float,
    *,
    alpha: float = 0.05,
    design: Design = "paired",
) -> float:
    """Return the power of a two-sided t-test to detect a true difference.

    Args:
        n: Pairs ("paired") or cases per group ("two-sample").
        effect: True mean difference to detect, in the unit of the data.
        sd: Standard deviation of the differences ("paired") or of each
            group ("two-sample"); must be > 0.
        alpha: Significance level.
        design: "paired" or "two-sample".
    """
    if sd <= 0:
        raise ValueError(f"sd must be > 0, got {sd}")

    df = n - 1 if design == "paired" else 2 * n - 2
    scale = sd / math.sqrt(n) if design == "paired" else sd * math.sqrt(2 / n)
    critical = stats.t.ppf(1 - alpha / 2, df)
    # scipy's noncentral t returns nan near nc = 1e15, as a float-noise sd
    # gives. Power is 1.0 in double precision from nc ~ 1e3 on, so cap it.
    nc = max(-_MAX_NONCENTRALITY, min(effect / scale, _MAX_NONCENTRALITY))
    return float(stats.nct.sf(critical, df, nc) + stats.nct.cdf(-critical, df, nc))


def required_sample_size(
    effect: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    design: Design = "paired",
) -> int | None:
    """Return the smallest n whose t-test reaches the requested power.

    n counts pairs for "paired" and cases per group for "two-sample". The
    search starts from the normal approximation, brackets the sample size by
    doubling and bisects on the exact noncentral t power, so it takes
    O(log n) power evaluations.

    Returns:
        The sample size, or None when more than `MAX_SAMPLE_SIZE` are needed
        (a tiny effect against a large or non-finite sd).

    Raises:
        ValueError: If effect is 0 or not finite, sd is negative or nan, or
            power is not in (0, 1).
    """
    if effect == 0 or not math.isfinite(effect):
        raise ValueError(
            f"effect must be a finite nonzero number, got {effect}; pass the "
            "smallest difference worth detecting"
        )
    if not sd >= 0:
        raise ValueError(f"sd must be >= 0, got {sd}")
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power}")
    if sd == 0:
        return 2

    def reaches(size: int) -> bool:
        return t_test_power(size, effect, sd, alpha=alpha, design=design) >= power

    low, high = 1, _normal_sample_size(effect, sd, alpha, power, design)
    while not reaches(high):
        if high >= MAX_SAMPLE_SIZE:
            return None
        low, high = high, min(2 * high, MAX_SAMPLE_SIZE)
    # Power grows with n, so bisect between a size that fails (or 1) and one
    # that reaches it.
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high


def _normal_sample_size(
    effect: float, sd: float, alpha: float, power: float, design: Design
) -> int:
    """Return the normal-approximation sample size, within [2, MAX_SAMPLE_SIZE]."""
    factor = 1 if design == "paired" else 2
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    scaled = z * sd / abs(effect)
    # Compared before squaring: the square of a huge ratio overflows.
    if not scaled <= math.sqrt(MAX_SAMPLE_SIZE / factor):
        return MAX_SAMPLE_SIZE
    return max(2, math.ceil(factor * scaled**2))


def best_rho2(target_n: int, alpha: float = 0.05) -> float:
    """Return the mixture parameter rho^2 that makes the sequence tightest at n.

    rho^2 = (-W_{-1}(-alpha^2 exp(alpha^2 - 1)) - 1) / target_n, with W_{-1}
    the lower branch of the Lambert W function; approximately
    (-2 log alpha + log(1 - 2 log alpha)) / target_n.
    """
    if target_n < 1:
        raise ValueError(f"target_n must be >= 1, got {target_n}")

    w = special.lambertw(-(alpha**2) * math.exp(alpha**2 - 1), k=-1).real
    return float((-w - 1) / target_n)


def confidence_sequence_margin(
    n: FloatArray | float, rho2: float, alpha: float = 0.05
) -> FloatArray:
    """Return the unit-variance half-width of the normal-mixture boundary at n.

    sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * log(sqrt(n rho^2 + 1) / alpha));
    multiply by the sample standard deviation to get the half-width.
    """
    t = np.asarray(n, dtype=np.float64)
    v = t * rho2 + 1
    return np.asarray(np.sqrt(2 * v / (t * t * rho2) * np.log(np.sqrt(v) / alpha)))


@_OVERFLOW_TO_INF
def confidence_sequence(
    values: Sample, confidence: float = 0.95, target_n: int = 500
) -> ConfidenceSequence:
    """Return the asymptotic confidence sequence for a mean after all values.

    The interval is mean +/- s * margin(n), from the normal-mixture boundary
    of the asymptotic confidence sequence (Waudby-Smith et al.). It is valid
    simultaneously at every n with probability about `confidence`, so it may
    be checked after every new value. target_n only moves where it is
    tightest: at target_n its half-width is ~1.55x the fixed t-interval's at
    95%, and it grows slowly beyond. Values must be independent with a common
    mean, in arrival order.

    Raises:
        ValueError: If fewer than 2 values are given.
    """
    v = _array(values, "values")
    _require_size(v, 2, "values")

    alpha = _alpha(confidence)
    rho2 = best_rho2(target_n, alpha)
    half = float(np.std(v, ddof=1) * confidence_sequence_margin(v.size, rho2, alpha))
    mean = float(v.mean())
    return ConfidenceSequence(
        mean, Interval(mean - half, mean + half), v.size, target_n, rho2
    )


@_OVERFLOW_TO_INF
def two_sample_sequence(
    x: Sample, y: Sample, confidence: float = 0.95, target_n: int = 500
) -> TwoSampleSequence:
    """Return a confidence sequence for mean(x) - mean(y) of independent samples.

    Each mean gets the sequence of `confidence_sequence` at half the error
    budget, level 1 - alpha/2. By the union bound both hold at every sample
    size at once with probability about `confidence`, and whenever both
    hold the difference lies in [low_x - high_y, high_x - low_y]. No run is
    paired with another, so the samples may grow at any rates, one after the
    other included. The price is width: the half-widths add, where a fixed
    Welch interval adds their squares.

    Args:
        x: Values of the first group, e.g. rewards of its runs.
        y: Values of the second group.
        confidence: Level of the interval, in (0, 1).
        target_n: Sample size of each group at which its sequence is
            tightest.

    Raises:
        ValueError: If either sample has fewer than 2 values.
    """
    a, b = _array(x, "x"), _array(y, "y")
    _require_size(a, 2, "x")
    _require_size(b, 2, "y")

    alpha = _alpha(confidence)
    first = confidence_sequence(a, 1 - alpha / 2, target_n)
    second = confidence_sequence(b, 1 - alpha / 2, target_n)
    interval = Interval(
        first.interval.low - second.interval.high,
        first.interval.high - second.interval.low,
    )
    return TwoSampleSequence(
        first.estimate - second.estimate,
        interval,
        first.n + second.n,
        first,
        second,
    )


def proportion_sequence(
    outcomes: Sequence[bool], confidence: float = 0.95, target_n: int = 500
) -> ConfidenceSequence:
    """Return the asymptotic confidence sequence for a rate, such as errors.

    As `confidence_sequence` on 0/1 outcomes, with the variance taken from
    the smoothed rate p = (k + 1) / (n + 2) instead of the sample variance, so
    that a run of identical outcomes still gets an interval of nonzero width.
    Both estimates converge to the same variance, so the asymptotic guarantee
    is unchanged. The interval is clipped to [0, 1].

    Raises:
        ValueError: If fewer than 2 outcomes are given.
    """
    v = _array([float(o) for o in outcomes], "outcomes")
    _require_size(v, 2, "outcomes")

    alpha = _alpha(confidence)
    rho2 = best_rho2(target_n, alpha)
    smoothed = (float(v.sum()) + 1) / (v.size + 2)
    sd = math.sqrt(smoothed * (1 - smoothed) * v.size / (v.size - 1))
    half = sd * float(confidence_sequence_margin(v.size, rho2, alpha))
    rate = float(v.mean())
    interval = Interval(max(0.0, rate - half), min(1.0, rate + half))
    return ConfidenceSequence(rate, interval, v.size, target_n, rho2)


def _t_result(
    estimate: float, se: float, df: float, n: int, confidence: float, method: str
) -> MeanDifference:
    alpha = _alpha(confidence)
    # All values are equal when the standard error is zero, so the estimate is
    # exact. A nonzero estimate is then a sure difference, and zero means none.
    if se == 0:
        statistic = 0.0 if estimate == 0 else math.copysign(math.inf, estimate)
        p_value = 1.0 if estimate == 0 else 0.0
        return MeanDifference(
            estimate,
            0.0,
            Interval(estimate, estimate),
            statistic,
            df,
            p_value,
            n,
            method,
        )

    statistic = estimate / se
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    p_value = float(2 * stats.t.sf(abs(statistic), df))
    interval = Interval(estimate - half, estimate + half)
    return MeanDifference(estimate, se, interval, statistic, df, p_value, n, method)


def _array(values: Sample, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers")
    return array


def _require_size(
    array: FloatArray, minimum: int, what: str, unit: str = "values"
) -> None:
    if array.size < minimum:
        unit = unit.removesuffix("s") if minimum == 1 else unit
        raise ValueError(
            f"{what} must have at least {minimum} {unit}, got {array.size}"
        )


def _alpha(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return 1 - confidence


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - _alpha(confidence) / 2))
