"""Analyse one pair of groups: reward, pass/fail and cost differences.

The per-pair half of `telemetry.compare`. Two groups that share at least 2
case ids are paired by case: the repeats of a case are averaged, and the
tests run on per-case differences. Otherwise the groups are compared as
independent samples. Every figure that cannot be computed gets a note
that explains why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from telemetry import statistics as st
from telemetry._compare_runs import CaseSummary, GroupRuns

__all__ = [
    "CompareOptions",
    "PairComparison",
    "adjust_holm",
    "compare_pair",
    "shared_cases",
]

_NOISE_SD = 1e-12
"""Spread of rewards below which it is float rounding, not variance."""


@dataclass(frozen=True)
class CompareOptions:
    """Settings of a comparison.

    Attributes:
        confidence: Level of every interval, e.g. 0.95.
        min_effect: Reward difference the power figure is computed for.
        power: Power the required number of cases aims at.
        pass_threshold: A run passes when its reward is >= this; None means a
            run passes when its error is null.
        sequential: Report confidence sequences; None means only when the
            groups share no case ids.
        target_n: Cases (paired) or runs per group (unpaired) at which
            confidence sequences are tightest.
    """

    confidence: float = 0.95
    min_effect: float = 0.05
    power: float = 0.8
    pass_threshold: float | None = None
    sequential: bool | None = None
    target_n: int = 500


@dataclass(frozen=True)
class PairComparison:
    """One group set against another; differences are treatment - baseline.

    Attributes:
        treatment: Group compared.
        baseline: Group compared against.
        design: "paired by case", or "unpaired (no case ids)" when a group
            carries none, "unpaired (no shared case ids)" when both do but
            share none, "unpaired (1 shared case id)" when they share one.
        cases: Cases behind the reward difference: shared cases with a
            reward in both groups (paired), or runs with a reward in either
            group (unpaired).
        clusters: Clusters behind a cluster-robust reward difference, or None
            when the plain paired standard error is the larger and is used.
        reward: Fixed-horizon reward difference and test, or None.
        reward_p_holm: Holm-adjusted p-value of the reward test.
        pass_fail: McNemar's test on per-case pass/fail (paired only).
        pass_p_holm: Holm-adjusted McNemar p-value.
        cost: Difference in cost per run in USD, or None.
        sequence: Confidence sequence for the reward difference, or None:
            of the per-case differences (paired), or of the two group means
            (unpaired, see `telemetry.statistics.two_sample_sequence`).
        required_cases: Cases (per group when unpaired) needed to detect the
            minimum effect with the observed variance, or None.
        notes: Why figures are missing, one sentence each, e.g. "Δreward
            needs 2 runs with a reward in each group, and planner has none".
    """

    treatment: str
    baseline: str
    design: str
    cases: int
    clusters: int | None
    reward: st.MeanDifference | None
    reward_p_holm: float | None
    pass_fail: st.McNemarResult | None
    pass_p_holm: float | None
    cost: st.MeanDifference | None
    sequence: st.ConfidenceSequence | st.TwoSampleSequence | None
    required_cases: int | None
    notes: tuple[str, ...] = ()


def shared_cases(a: GroupRuns, b: GroupRuns) -> list[str]:
    """Return the case ids both groups ran, sorted."""
    return sorted(set(a.cases) & set(b.cases))


def compare_pair(
    t: GroupRuns,
    b: GroupRuns,
    options: CompareOptions,
    sequential: bool,
    cs_confidence: float,
) -> PairComparison:
    """Compare group t against group b, paired by case when they share 2 or more.

    Args:
        t: The treatment group; differences are t - b.
        b: The baseline group.
        options: Levels and modes of the comparison.
        sequential: Also compute a confidence sequence for the reward.
        cs_confidence: Level of that sequence, Bonferroni-adjusted for the
            number of pairs.
    """
    shared = shared_cases(t, b)
    if len(shared) >= 2:
        return _paired(t, b, shared, options, sequential, cs_confidence)
    design = _unpaired_design(t, b, len(shared))
    return _unpaired(t, b, design, options, sequential, cs_confidence)


def _unpaired_design(t: GroupRuns, b: GroupRuns, shared: int) -> str:
    """Return why a pair is unpaired: no case ids at all, or too few shared."""
    if not (t.cases and b.cases):
        return "unpaired (no case ids)"
    if shared == 0:
        return "unpaired (no shared case ids)"
    return "unpaired (1 shared case id)"


def _paired(
    t: GroupRuns,
    b: GroupRuns,
    shared: list[str],
    options: CompareOptions,
    sequential: bool,
    cs_confidence: float,
) -> PairComparison:
    tc, bc = t.cases, b.cases
    # Completion order: the order in which a monitor reading the log gets them.
    scored = sorted(
        (c for c in shared if tc[c].reward is not None and bc[c].reward is not None),
        key=lambda c: (max(tc[c].last_ts, bc[c].last_ts), c),
    )
    x = [_known(tc[c].reward) for c in scored]
    y = [_known(bc[c].reward) for c in scored]
    clusters = [tc[c].cluster or bc[c].cluster for c in scored]
    reward, n_clusters, (required, required_note) = _paired_reward(
        x, y, clusters, options
    )

    sequence = None
    if sequential and len(scored) >= 2:
        d = [a - b for a, b in zip(x, y, strict=True)]
        sequence = st.confidence_sequence(d, cs_confidence, options.target_n)

    costed = [
        c for c in shared if tc[c].cost_usd is not None and bc[c].cost_usd is not None
    ]
    cost = _paired_cost(tc, bc, costed, options)
    notes = []
    if reward is None:
        notes.append(_too_few_shared("Δreward", "a reward", len(scored)))
    if cost is None:
        notes.append(_too_few_shared("ΔUSD/run", "a cost", len(costed)))
    if reward is not None and required is None:
        notes.append(required_note)

    return PairComparison(
        treatment=t.name,
        baseline=b.name,
        design="paired by case",
        cases=len(scored),
        clusters=n_clusters,
        reward=reward,
        reward_p_holm=None,
        pass_fail=_mcnemar(tc, bc, shared),
        pass_p_holm=None,
        cost=cost,
        sequence=sequence,
        required_cases=required,
        notes=tuple(notes),
    )


def _paired_reward(
    x: list[float], y: list[float], clusters: list[str | None], options: CompareOptions
) -> tuple[st.MeanDifference | None, int | None, tuple[int | None, str]]:
    """Return the reward difference, its cluster count and the cases needed.

    The cases needed come with the note that explains a None.
    """
    if len(x) < 2:
        return None, None, (None, "")

    plain = st.paired_difference(x, y, options.confidence)
    d = [a - b for a, b in zip(x, y, strict=True)]
    same = "every case has the same reward difference"
    required = _required(d, options, "paired", same)
    labels = [c for c in clusters if c is not None]
    if len(labels) < len(clusters) or len(set(labels)) < 2:
        return plain, None, required

    robust = st.cluster_robust_mean(d, labels, options.confidence)
    # Balanced clusters can make the robust estimate smaller than the plain
    # one, even zero; clustering is never allowed to claim more precision.
    if robust.se <= plain.se:
        return plain, None, required
    if required[0] is not None and plain.se > 0:
        # Clustered cases carry less information, so scale by the design effect.
        scaled = required[0] * (robust.se / plain.se) ** 2
        required = _capped(scaled, options)
    return robust, len(set(labels)), required


def _mcnemar(
    tc: Mapping[str, CaseSummary], bc: Mapping[str, CaseSummary], shared: list[str]
) -> st.McNemarResult:
    only_t = sum(tc[c].passed and not bc[c].passed for c in shared)
    only_b = sum(bc[c].passed and not tc[c].passed for c in shared)
    return st.mcnemar(only_t, only_b)


def _paired_cost(
    tc: Mapping[str, CaseSummary],
    bc: Mapping[str, CaseSummary],
    costed: list[str],
    options: CompareOptions,
) -> st.MeanDifference | None:
    if len(costed) < 2:
        return None
    x = [_known(tc[c].cost_usd) for c in costed]
    y = [_known(bc[c].cost_usd) for c in costed]
    return st.paired_difference(x, y, options.confidence)


def _unpaired(
    t: GroupRuns,
    b: GroupRuns,
    design: str,
    options: CompareOptions,
    sequential: bool,
    cs_confidence: float,
) -> PairComparison:
    x = [r for r in t.reward if r is not None]
    y = [r for r in b.reward if r is not None]
    reward, (required, required_note) = None, (None, "")
    if len(x) >= 2 and len(y) >= 2:
        reward = st.welch_difference(x, y, options.confidence)
        mx, my = sum(x) / len(x), sum(y) / len(y)
        pooled = [v - mx for v in x] + [v - my for v in y]
        same = "the rewards within each group do not vary"
        required, required_note = _required(pooled, options, "two-sample", same)

    sequence = None
    if sequential and len(x) >= 2 and len(y) >= 2:
        sequence = st.two_sample_sequence(x, y, cs_confidence, options.target_n)

    tx = [c for c in t.cost_usd if c is not None]
    by = [c for c in b.cost_usd if c is not None]
    cost = None
    if len(tx) >= 2 and len(by) >= 2:
        cost = st.welch_difference(tx, by, options.confidence)

    notes = [
        note
        for figure, what, counts in (
            ("Δreward", "a reward", {t.name: len(x), b.name: len(y)}),
            ("ΔUSD/run", "a cost", {t.name: len(tx), b.name: len(by)}),
        )
        if (note := _too_few_runs(figure, what, counts))
    ]
    if reward is not None and required is None:
        notes.append(required_note)

    return PairComparison(
        treatment=t.name,
        baseline=b.name,
        design=design,
        cases=len(x) + len(y),
        clusters=None,
        reward=reward,
        reward_p_holm=None,
        pass_fail=None,
        pass_p_holm=None,
        cost=cost,
        sequence=sequence,
        required_cases=required,
        notes=tuple(notes),
    )


def _too_few_shared(figure: str, what: str, count: int) -> str:
    """Return why a paired figure is missing: fewer than 2 cases to pair on."""
    found = "there are none" if count == 0 else "there is 1"
    return f"{figure} needs 2 shared cases with {what} in both groups, and {found}"


def _too_few_runs(figure: str, what: str, counts: Mapping[str, int]) -> str:
    """Return why an unpaired figure is missing, or "" when it is not."""
    short = [
        f"{name} has {count or 'none'}" for name, count in counts.items() if count < 2
    ]
    if not short:
        return ""
    return f"{figure} needs 2 runs with {what} in each group, and {', '.join(short)}"


def _required(
    residuals: list[float],
    options: CompareOptions,
    design: st.Design,
    zero_variance: str,
) -> tuple[int | None, str]:
    """Return the cases needed for the minimum effect, or None and why not.

    Args:
        residuals: Paired differences, or deviations from each group's mean.
        options: Holds the minimum effect, level and power.
        design: "paired" or "two-sample".
        zero_variance: Why the residuals do not vary, for the note.
    """
    figure = f"cases for ±{options.min_effect:g}"
    if not 0 < options.min_effect < math.inf:
        return None, f"{figure} needs a finite minimum effect above 0"

    with np.errstate(over="ignore", invalid="ignore"):
        sd = float(np.std(residuals, ddof=1))
    if not math.isfinite(sd):
        spread = "the rewards are too far apart for double precision"
        return None, f"{figure} is not computed because {spread}"
    if sd <= _NOISE_SD:
        # Any sample then measures the difference exactly, so no size follows.
        return None, f"{figure} is not computed because {zero_variance}"
    required = st.required_sample_size(
        options.min_effect,
        sd,
        alpha=1 - options.confidence,
        power=options.power,
        design=design,
    )
    return _capped(required, options)


def _capped(required: float | None, options: CompareOptions) -> tuple[int | None, str]:
    """Return required as an int, or None and a note beyond the largest size."""
    if required is None or not required <= st.MAX_SAMPLE_SIZE:
        figure = f"cases for ±{options.min_effect:g}"
        return None, f"{figure} is more than 10^9, so it is not computed"
    return math.ceil(required), ""


def adjust_holm(pairs: list[PairComparison]) -> list[PairComparison]:
    """Return the pairs with Holm-adjusted reward and pass/fail p-values."""
    reward = _holm_field([p.reward.p_value if p.reward else None for p in pairs])
    passes = _holm_field([p.pass_fail.p_value if p.pass_fail else None for p in pairs])
    return [
        replace(p, reward_p_holm=r, pass_p_holm=q)
        for p, r, q in zip(pairs, reward, passes, strict=True)
    ]


def _holm_field(p_values: list[float | None]) -> list[float | None]:
    present = [p for p in p_values if p is not None]
    adjusted = iter(st.holm_adjust(present))
    return [None if p is None else next(adjusted) for p in p_values]


def _known(value: float | None) -> float:
    assert value is not None
    return value
