"""What a verdict rule decides and from what: the four outcomes (:data:`OUTCOMES`), :class:`Verdict`, the
:class:`Power` statement every result carries, and the generic decisions (:func:`directional`,
:func:`interval_outcome`, :func:`criteria_outcome`) the per-claim rules use (:mod:`vaxis.publish.text_verdicts` for
claims 1-3, :mod:`vaxis.publish.verdicts` for claims 4-8; claims in parts: :mod:`vaxis.publish.parts`).

The four outcomes:

``replicates``
    the data support the paper's claim at the size the rule names;
``partly``
    part of the claim holds (e.g. a real effect, but smaller than claimed and the claimed size is excluded);
``does not replicate``
    the data *exclude* the paper's effect: a confidence interval or an equivalence test against a margin named in
    the rule. A non-significant result alone never gives this outcome;
``inconclusive``
    neither: the design could not tell (an interval that holds both no effect and the paper's effect). Synthetic
    data always give ``inconclusive``: a simulator says nothing about the claim.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

__all__ = ["OUTCOMES", "SYNTHETIC_REASON", "Power", "Verdict", "synthetic_verdict", "all_finite", "directional",
           "interval_outcome", "criteria_outcome"]


OUTCOMES = ("replicates", "partly", "does not replicate", "inconclusive")


SYNTHETIC_REASON = "synthetic data: a simulated cohort says nothing about the claim"


@dataclass(frozen=True)
class Power:
    """What a chapter's test could detect: stated before its result, stored with it.

    Attributes
    ----------
    unit : str
        Unit of analysis, e.g. ``"fold (seeds averaged)"``, ``"test subject"``, ``"benchmark text"``.
    n : int
        Number of units.
    alpha : float
        Significance level before correction.
    correction : str
        Multiple-comparison correction, e.g. ``"Holm over 25 strategies"`` or ``"none"``.
    mde : float
        Minimum detectable effect (power 0.8 unless ``power`` says otherwise) at this design, in ``effect`` units.
    effect : str
        What ``mde`` is measured in, e.g. ``"BA points"``.
    power : float
        The power at which ``mde`` is stated.
    """

    unit: str
    n: int
    alpha: float
    correction: str
    mde: float
    effect: str
    power: float = 0.8

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"Power.n must be >= 1, got {self.n}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"Power.alpha must be in (0, 1), got {self.alpha}")

    def as_dict(self) -> dict:
        """``{unit, n, alpha, correction, mde, effect, power}`` (the results contract's ``power`` field)."""
        d = asdict(self)
        d["mde"] = None if not math.isfinite(self.mde) else float(self.mde)
        return d

    def sentence(self) -> str:
        """One line for the chapter: ``'unit: fold (seeds averaged), n = 10, alpha 0.05 (Holm over 25): ...'``."""
        return (f"unit: {self.unit}, n = {self.n}, alpha {self.alpha:g} ({self.correction}); minimum detectable "
                f"effect at power {self.power:g}: {self.mde:.3g} {self.effect}")


@dataclass(frozen=True)
class Verdict:
    """A rule's outcome: ``verdict`` (one of :data:`OUTCOMES`), the ``rule`` text and the ``reason`` (the branch
    that fired, with the numbers)."""

    verdict: str
    rule: str
    reason: str

    def __post_init__(self) -> None:
        if self.verdict not in OUTCOMES:
            raise ValueError(f"verdict must be one of {OUTCOMES}, got {self.verdict!r}")

    def fields(self) -> dict:
        """``{"verdict", "rule", "reason"}`` for a scoreboard row."""
        return {"verdict": self.verdict, "rule": self.rule, "reason": self.reason}


def synthetic_verdict(rule: str) -> Verdict:
    """The verdict on synthetic data, whatever the numbers."""
    return Verdict("inconclusive", rule, SYNTHETIC_REASON)


def all_finite(*xs: float) -> bool:
    """True when every ``x`` is a finite number (None, NaN and +-inf are not)."""
    return all(x is not None and math.isfinite(float(x)) for x in xs)


def directional(estimate: float, ci_low: float, ci_high: float, p: float, *, alpha: float, margin: float,
                rule: str, source: str = "faced", unit: str = "") -> Verdict:
    """Verdict for a claim that predicts a positive effect of at least ``margin``.

    ``estimate`` with its two-sided CI ``[ci_low, ci_high]`` and (corrected) ``p`` for "no effect":

    - significant (``p < alpha``) and positive: ``replicates`` if the CI still reaches ``margin``
      (``ci_high >= margin``: the claimed size is not excluded), else ``partly`` (a real effect, but the data
      exclude the claimed size);
    - otherwise: ``does not replicate`` if ``ci_high < margin`` (the data exclude an effect as large as the
      margin), else ``inconclusive``.

    Parameters
    ----------
    margin : float
        The smallest effect the rule counts as the paper's (> 0), in the estimate's units.
    unit : str
        The estimate's unit, for the reason text (e.g. ``"BA points"``).
    """
    if source == "synthetic":
        return synthetic_verdict(rule)
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    if not all_finite(estimate, ci_low, ci_high, p):
        return Verdict("inconclusive", rule, f"non-finite statistics (estimate {estimate}, CI [{ci_low}, {ci_high}], "
                                             f"p {p})")
    if ci_low > ci_high:
        raise ValueError(f"ci_low {ci_low} > ci_high {ci_high}")
    u = f" {unit}" if unit else ""
    stats = f"estimate {estimate:+.4g}{u}, 95% CI [{ci_low:+.4g}, {ci_high:+.4g}], p = {p:.3g}, margin {margin:g}{u}"
    if p < alpha and estimate > 0:
        if ci_high >= margin:
            return Verdict("replicates", rule, f"significant and consistent with the claimed size ({stats})")
        return Verdict("partly", rule, f"significant but smaller than claimed: the CI excludes the margin ({stats})")
    if ci_high < margin:
        return Verdict("does not replicate", rule, f"the CI excludes an effect as large as the margin ({stats})")
    return Verdict("inconclusive", rule, f"not significant and the CI still holds the margin ({stats})")


def interval_outcome(ci_low: float, ci_high: float, threshold: float) -> str:
    """Where a CI sits relative to a threshold: ``"above"`` (``ci_low > threshold``), ``"below"``
    (``ci_high < threshold``) or ``"undecided"`` (the CI holds it)."""
    if not all_finite(ci_low, ci_high):
        return "undecided"
    if ci_low > threshold:
        return "above"
    if ci_high < threshold:
        return "below"
    return "undecided"


def criteria_outcome(criteria: Sequence[Mapping], rule: str, source: str = "faced") -> Verdict:
    """Verdict from falsifiable criteria, each a mapping with ``name`` and ``holds`` (True / False / None).

    ``holds`` is True when the criterion's interval clears its threshold, False when the interval excludes it
    (the criterion fails decisively), None when undecided. All hold: ``replicates``; at least one holds and at
    least one fails: ``partly``; none holds and all fail: ``does not replicate``; otherwise ``inconclusive``.
    """
    if source == "synthetic":
        return synthetic_verdict(rule)
    if not criteria:
        raise ValueError("criteria_outcome needs at least one criterion")
    held = [c["name"] for c in criteria if c["holds"] is True]
    failed = [c["name"] for c in criteria if c["holds"] is False]
    open_ = [c["name"] for c in criteria if c["holds"] is None]
    reason = f"hold: {held or 'none'}; fail: {failed or 'none'}; undecided: {open_ or 'none'}"
    if len(held) == len(criteria):
        return Verdict("replicates", rule, reason)
    if held and failed:
        return Verdict("partly", rule, reason)
    if len(failed) == len(criteria):
        return Verdict("does not replicate", rule, reason)
    return Verdict("inconclusive", rule, reason)
