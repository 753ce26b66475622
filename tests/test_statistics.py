"""Check every figure of telemetry.statistics against scipy and published examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from telemetry import statistics

REWARDS_A = [0.71, 0.64, 0.80, 0.55, 0.90, 0.62, 0.77, 0.69, 0.58, 0.83]
REWARDS_B = [0.66, 0.60, 0.79, 0.47, 0.85, 0.65, 0.70, 0.61, 0.50, 0.80]


def test_paired_difference_matches_scipy_ttest_rel() -> None:
    result = statistics.paired_difference(REWARDS_A, REWARDS_B)
    expected = sps.ttest_rel(REWARDS_A, REWARDS_B)

    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_paired_difference_interval_matches_scipy() -> None:
    result = statistics.paired_difference(REWARDS_A, REWARDS_B, confidence=0.9)
    expected = sps.ttest_rel(REWARDS_A, REWARDS_B).confidence_interval(0.9)

    assert result.interval.low == pytest.approx(expected.low, rel=1e-12)
    assert result.interval.high == pytest.approx(expected.high, rel=1e-12)


def test_paired_difference_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match=r"^x and y must have the same length"):
        statistics.paired_difference([1.0, 2.0], [1.0])


def test_paired_difference_needs_two_pairs() -> None:
    with pytest.raises(
        ValueError, match=r"^x and y must have at least 2 pairs, got 1$"
    ):
        statistics.paired_difference([1.0], [0.5])


def test_paired_difference_rejects_nan() -> None:
    with pytest.raises(ValueError, match=r"^x must contain only finite numbers$"):
        statistics.paired_difference([1.0, math.nan], [0.5, 0.5])


def test_paired_difference_identical_agents_give_p_one() -> None:
    result = statistics.paired_difference([0.5, 0.7, 0.9], [0.5, 0.7, 0.9])

    assert result.p_value == 1.0
    assert result.interval == statistics.Interval(0.0, 0.0)


def test_paired_difference_constant_shift_gives_p_zero() -> None:
    result = statistics.paired_difference([1.5, 2.5, 4.5], [1.0, 2.0, 4.0])

    assert result.p_value == 0.0


def test_paired_difference_rejects_bad_confidence() -> None:
    with pytest.raises(ValueError, match=r"^confidence must be in \(0, 1\), got 95$"):
        statistics.paired_difference(REWARDS_A, REWARDS_B, confidence=95)


def test_welch_difference_matches_scipy_ttest_ind() -> None:
    x, y = REWARDS_A, REWARDS_B[:7]
    result = statistics.welch_difference(x, y)
    expected = sps.ttest_ind(x, y, equal_var=False)

    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.df == pytest.approx(expected.df, rel=1e-12)


def test_welch_difference_interval_matches_scipy() -> None:
    x, y = REWARDS_A, REWARDS_B[:7]
    result = statistics.welch_difference(x, y)
    expected = sps.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)

    assert result.interval.low == pytest.approx(expected.low, rel=1e-12)
    assert result.interval.high == pytest.approx(expected.high, rel=1e-12)


def test_welch_difference_needs_two_values_each() -> None:
    with pytest.raises(ValueError, match=r"^y must have at least 2 values, got 1$"):
        statistics.welch_difference([1.0, 2.0], [1.0])


def test_cluster_robust_mean_singletons_equal_ordinary_se() -> None:
    d = np.subtract(REWARDS_A, REWARDS_B)
    result = statistics.cluster_robust_mean(d, [str(i) for i in range(d.size)])
    expected = sps.ttest_1samp(d, 0.0)

    assert result.se == pytest.approx(sps.sem(d), rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_cluster_robust_mean_equal_clusters_match_cluster_means() -> None:
    # With equal cluster sizes, CR1 equals a one-sample t-test on cluster means.
    d = np.subtract(REWARDS_A, REWARDS_B)
    clusters = [f"c{i // 2}" for i in range(d.size)]
    result = statistics.cluster_robust_mean(d, clusters)
    expected = sps.ttest_1samp(d.reshape(5, 2).mean(axis=1), 0.0)

    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.df == 4


def test_cluster_robust_mean_widens_correlated_cases() -> None:
    rng = np.random.default_rng(7)
    cluster_effect = np.repeat(rng.normal(0, 1, 8), 10)
    d = cluster_effect + rng.normal(0, 0.2, 80)
    clusters = [str(i // 10) for i in range(80)]

    assert statistics.cluster_robust_mean(d, clusters).se > 2 * sps.sem(d)


def test_cluster_robust_mean_needs_two_clusters() -> None:
    with pytest.raises(
        ValueError, match=r"^clusters must name at least 2 distinct clusters, got 1$"
    ):
        statistics.cluster_robust_mean([0.1, 0.2], ["a", "a"])


def test_cluster_robust_mean_needs_one_label_per_value() -> None:
    with pytest.raises(ValueError, match=r"^clusters must have one label per value"):
        statistics.cluster_robust_mean([0.1, 0.2], ["a"])


def test_mcnemar_large_counts_match_worked_example() -> None:
    # Worked example with 121 and 59 discordant pairs: chi-square = 21.35.
    result = statistics.mcnemar(121, 59)

    assert result.statistic == pytest.approx(21.35, abs=0.01)
    assert result.p_value == pytest.approx(sps.chi2.sf(3844 / 180, 1), rel=1e-12)
    assert result.method == "chi-square"


def test_mcnemar_small_counts_match_binomtest() -> None:
    result = statistics.mcnemar(6, 16)

    assert result.p_value == pytest.approx(sps.binomtest(6, 22, 0.5).pvalue)
    assert result.method == "exact binomial"


def test_mcnemar_no_discordant_pairs_gives_p_one() -> None:
    assert statistics.mcnemar(0, 0).p_value == 1.0


def test_mcnemar_rejects_negative_count() -> None:
    with pytest.raises(ValueError, match=r"^c must be a count >= 0, got -1$"):
        statistics.mcnemar(3, -1)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)],
)
def test_wilson_interval_matches_newcombe_examples(
    successes: int, n: int, low: float, high: float
) -> None:
    # Worked examples of Newcombe (1998), Statistics in Medicine 17:857-872.
    interval = statistics.wilson_interval(successes, n)

    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_bounds_solve_score_equation() -> None:
    interval = statistics.wilson_interval(7, 40, confidence=0.9)
    z = sps.norm.ppf(0.95)

    for p in (interval.low, interval.high):
        assert abs(7 / 40 - p) / math.sqrt(p * (1 - p) / 40) == pytest.approx(z)


def test_wilson_interval_rejects_empty_sample() -> None:
    with pytest.raises(ValueError, match=r"^n must be >= 1, got 0$"):
        statistics.wilson_interval(0, 0)


def test_wilson_interval_rejects_too_many_successes() -> None:
    with pytest.raises(ValueError, match=r"^successes must be in \[0, n=3\], got 4$"):
        statistics.wilson_interval(4, 3)


def test_bootstrap_quantile_is_reproducible() -> None:
    latencies = np.random.default_rng(3).lognormal(5, 0.6, 300)

    first = statistics.bootstrap_quantile(latencies, 0.95)
    second = statistics.bootstrap_quantile(latencies, 0.95)

    assert first == second


def test_bootstrap_quantile_estimate_is_numpy_quantile() -> None:
    latencies = np.random.default_rng(3).lognormal(5, 0.6, 301)

    result = statistics.bootstrap_quantile(latencies, 0.5)

    assert result.estimate == np.quantile(latencies, 0.5)


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_bootstrap_quantile_matches_resampling_bootstrap(q: float) -> None:
    # Dense data, so that neighbouring order statistics (which bound the
    # discrete bootstrap distribution) lie close together.
    latencies = np.random.default_rng(11).normal(500, 50, 1000)
    rng = np.random.default_rng(12)
    resampled = latencies[rng.integers(0, 1000, size=(4000, 1000))]
    expected = np.quantile(np.quantile(resampled, q, axis=1), [0.025, 0.975])

    interval = statistics.bootstrap_quantile(latencies, q).interval

    assert interval.low == pytest.approx(expected[0], rel=0.005)
    assert interval.high == pytest.approx(expected[1], rel=0.005)


def test_bootstrap_quantile_rejects_bad_q() -> None:
    with pytest.raises(ValueError, match=r"^q must be in \[0, 1\], got 95$"):
        statistics.bootstrap_quantile([1.0, 2.0], 95)


def test_bootstrap_quantile_needs_values() -> None:
    with pytest.raises(ValueError, match=r"^values must have at least 1 value, got 0$"):
        statistics.bootstrap_quantile([], 0.5)


def test_holm_adjust_matches_hand_computation() -> None:
    adjusted = statistics.holm_adjust([0.01, 0.04, 0.03, 0.005])

    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_adjust_caps_at_one() -> None:
    assert statistics.holm_adjust([0.6, 0.9]) == [1.0, 1.0]


def test_t_test_power_matches_r_power_t_test() -> None:
    # R: power.t.test(n = 20, delta = 1) reports power = 0.8689528.
    power = statistics.t_test_power(20, 1.0, 1.0, design="two-sample")

    assert power == pytest.approx(0.8689528, abs=1e-6)


def test_required_sample_size_two_sample_matches_r() -> None:
    # R: power.t.test(power = .90, delta = 1) reports n = 22.02 per group.
    n = statistics.required_sample_size(1.0, 1.0, power=0.9, design="two-sample")

    assert n == 23


def test_required_sample_size_paired_matches_r() -> None:
    # R: power.t.test(delta = 1, power = .8, type = "paired") reports n = 9.94.
    assert statistics.required_sample_size(1.0, 1.0, power=0.8) == 10


def test_required_sample_size_is_smallest_sufficient_n() -> None:
    n = statistics.required_sample_size(0.05, 0.2)

    assert n is not None
    assert statistics.t_test_power(n, 0.05, 0.2) >= 0.8
    assert statistics.t_test_power(n - 1, 0.05, 0.2) < 0.8


def test_t_test_power_tiny_sd_is_one() -> None:
    assert statistics.t_test_power(2, 0.05, 1e-17) == 1.0


def test_required_sample_size_tiny_sd_ends() -> None:
    assert statistics.required_sample_size(0.05, 1e-17) == 2


def test_required_sample_size_large_n_is_smallest() -> None:
    n = statistics.required_sample_size(1e-4, 0.3)

    assert n is not None
    assert statistics.t_test_power(n, 1e-4, 0.3) >= 0.8
    assert statistics.t_test_power(n - 1, 1e-4, 0.3) < 0.8


def test_required_sample_size_tiny_effect_is_none() -> None:
    assert statistics.required_sample_size(1e-300, 0.3) is None


def test_required_sample_size_infinite_sd_is_none() -> None:
    assert statistics.required_sample_size(0.05, math.inf) is None


def test_required_sample_size_rejects_zero_effect() -> None:
    with pytest.raises(
        ValueError,
        match=r"^effect must be a finite nonzero number, got 0.0; pass the "
        r"smallest difference worth detecting$",
    ):
        statistics.required_sample_size(0.0, 1.0)


def test_required_sample_size_rejects_infinite_effect() -> None:
    with pytest.raises(ValueError, match=r"^effect must be a finite nonzero number"):
        statistics.required_sample_size(math.inf, 1.0)


def test_required_sample_size_rejects_nan_sd() -> None:
    with pytest.raises(ValueError, match=r"^sd must be >= 0, got nan$"):
        statistics.required_sample_size(0.05, math.nan)


def test_required_sample_size_rejects_bad_power() -> None:
    with pytest.raises(ValueError, match=r"^power must be in \(0, 1\), got 80$"):
        statistics.required_sample_size(0.1, 1.0, power=80)


def test_t_test_power_rejects_zero_sd() -> None:
    with pytest.raises(ValueError, match=r"^sd must be > 0, got 0.0$"):
        statistics.t_test_power(10, 0.1, 0.0)


def test_best_rho2_close_to_closed_form_approximation() -> None:
    alpha = 0.05
    approx = (-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / 400

    assert statistics.best_rho2(400, alpha) == pytest.approx(approx, rel=0.05)


def test_best_rho2_minimises_margin_at_target() -> None:
    best = statistics.best_rho2(400)
    grid = best * np.exp(np.linspace(-1, 1, 41))

    margins = [float(statistics.confidence_sequence_margin(400, r)) for r in grid]

    assert (
        float(statistics.confidence_sequence_margin(400, best)) <= min(margins) + 1e-12
    )


def test_confidence_sequence_margin_matches_formula() -> None:
    rho2, t, alpha = 0.02, 100.0, 0.05
    expected = math.sqrt(
        2 * (t * rho2 + 1) / (t * t * rho2) * math.log(math.sqrt(t * rho2 + 1) / alpha)
    )

    assert float(
        statistics.confidence_sequence_margin(t, rho2, alpha)
    ) == pytest.approx(expected, rel=1e-12)


def test_confidence_sequence_wider_than_t_interval() -> None:
    d = np.subtract(REWARDS_A, REWARDS_B).tolist() * 10
    sequence = statistics.confidence_sequence(d, target_n=100)
    fixed = sps.ttest_1samp(d, 0.0).confidence_interval(0.95)

    assert sequence.interval.low < fixed.low
    assert sequence.interval.high > fixed.high


def test_confidence_sequence_width_at_target() -> None:
    d = np.random.default_rng(5).normal(0, 1, 500)
    sequence = statistics.confidence_sequence(d, target_n=500)
    half = (sequence.interval.high - sequence.interval.low) / 2

    assert half / (np.std(d, ddof=1) * 1.965 / math.sqrt(500)) == pytest.approx(
        1.55, abs=0.02
    )


def test_confidence_sequence_needs_two_values() -> None:
    with pytest.raises(
        ValueError, match=r"^values must have at least 2 values, got 1$"
    ):
        statistics.confidence_sequence([0.1])


def test_two_sample_sequence_combines_half_level_bounds() -> None:
    first = statistics.confidence_sequence(REWARDS_A, 0.975, 100)
    second = statistics.confidence_sequence(REWARDS_B[:7], 0.975, 100)

    result = statistics.two_sample_sequence(REWARDS_A, REWARDS_B[:7], 0.95, 100)

    assert result.interval.low == first.interval.low - second.interval.high
    assert result.interval.high == first.interval.high - second.interval.low
    assert result.estimate == first.estimate - second.estimate
    assert result.n == 17


def test_two_sample_sequence_wider_than_welch() -> None:
    sequence = statistics.two_sample_sequence(REWARDS_A * 10, REWARDS_B * 10)
    fixed = statistics.welch_difference(REWARDS_A * 10, REWARDS_B * 10)

    assert sequence.interval.low < fixed.interval.low
    assert sequence.interval.high > fixed.interval.high


def test_two_sample_sequence_needs_two_values_each() -> None:
    with pytest.raises(ValueError, match=r"^y must have at least 2 values, got 1$"):
        statistics.two_sample_sequence(REWARDS_A, [0.5])


def test_interval_excludes_zero_only_outside() -> None:
    assert statistics.Interval(0.1, 0.3).excludes(0.0)
    assert not statistics.Interval(-0.1, 0.3).excludes(0.0)
