"""The verdicts' shared machinery: the four outcomes, :class:`Verdict`, the :class:`Power` statement every EEG
result carries, and the generic building blocks (:func:`directional`, :func:`interval_outcome`,
:func:`count_outcome`, :func:`criteria_outcome`) the per-claim rules of :mod:`vaxis.publish.verdicts` use."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from vaxis.stats import count_outcome

__all__ = ["OUTCOMES", "SYNTHETIC_REASON", "Power", "Verdict", "synthetic_verdict", "directional", "interval_outcome",
           "count_outcome", "criteria_outcome", "PART_OUTCOMES", "Part", "part_from_interval", "combine_parts"]


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


def _finite(*xs: float) -> bool:
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
    if not _finite(estimate, ci_low, ci_high, p):
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
    if not _finite(ci_low, ci_high):
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


# ------------------------------------------------------------------------------------------- claims with parts
#: A part's outcome: the data show the part (``holds``), exclude it (``fails``), or cannot tell (``undecided``).
PART_OUTCOMES = ("holds", "fails", "undecided")


@dataclass(frozen=True)
class Part:
    """One named part of a claim with its own decision (the results contract's ``parts`` entries).

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"no_improvement"``.
    outcome : str
        One of :data:`PART_OUTCOMES`, reached only when the data show it.
    estimate, ci_low, ci_high : float
        The part's statistic and the interval that decided it (in the part's own unit).
    margin : float
        The threshold the interval was compared with (in the same unit); its origin is stated in the rule.
    mde : float
        The minimum detectable effect of the test that decides this part (same unit), at power 0.8.
    unit : str
        What the numbers are measured in, e.g. ``"BA points"``.
    reason : str
        One line: why this outcome (the comparison that fired, with its numbers).
    """

    name: str
    outcome: str
    estimate: float
    ci_low: float
    ci_high: float
    margin: float
    mde: float
    unit: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in PART_OUTCOMES:
            raise ValueError(f"Part.outcome must be one of {PART_OUTCOMES}, got {self.outcome!r}")

    def as_dict(self) -> dict:
        """``{name, outcome, estimate, ci_low, ci_high, margin, mde, unit, reason}``; non-finite numbers -> None."""
        d = asdict(self)
        for k in ("estimate", "ci_low", "ci_high", "margin", "mde"):
            v = d[k]
            d[k] = None if v is None or not math.isfinite(float(v)) else float(v)
        return d


def part_from_interval(name: str, estimate: float, ci_low: float, ci_high: float, *, holds_above: float,
                       mde: float, unit: str = "", what: str = "") -> Part:
    """A part decided by one interval against one threshold, so it can never both hold and fail.

    ``holds`` if the whole interval is above ``holds_above``; ``fails`` if the whole interval is below it;
    ``undecided`` if it holds the threshold (or is not finite). For a part that holds when an effect is *small*
    (e.g. "no improvement"), pass the negated statistic and interval.
    """
    side = interval_outcome(ci_low, ci_high, holds_above)
    outcome = {"above": "holds", "below": "fails", "undecided": "undecided"}[side]
    u = f" {unit}" if unit else ""
    stats = (f"{estimate:+.4g}{u} [{ci_low:+.4g}, {ci_high:+.4g}] vs {holds_above:+.4g}{u}"
             if _finite(estimate, ci_low, ci_high) else "non-finite interval")
    verb = {"holds": "interval above the threshold", "fails": "interval below the threshold",
            "undecided": "interval holds the threshold"}[outcome]
    return Part(name, outcome, estimate, ci_low, ci_high, holds_above, mde, unit,
                f"{what + ': ' if what else ''}{verb} ({stats})")


def combine_parts(parts: Sequence[Part], rule: str, source: str = "faced") -> Verdict:
    """The claim's verdict from its parts, one shared rule for every claim with parts.

    All parts hold: ``replicates``; some hold and some fail: ``partly``; all fail: ``does not replicate``;
    anything else (an undecided part with none failing, or undecided with none holding): ``inconclusive``.
    Synthetic data: ``inconclusive``. The reason names each part's outcome.
    """
    if source == "synthetic":
        return synthetic_verdict(rule)
    if not parts:
        raise ValueError("combine_parts needs at least one part")
    out = [p.outcome for p in parts]
    reason = "; ".join(f"{p.name} {p.outcome}" + (f" ({p.reason})" if p.reason else "") for p in parts)
    if all(o == "holds" for o in out):
        return Verdict("replicates", rule, reason)
    if "holds" in out and "fails" in out:
        return Verdict("partly", rule, reason)
    if all(o == "fails" for o in out):
        return Verdict("does not replicate", rule, reason)
    return Verdict("inconclusive", rule, reason)
