"""Claims decided in parts: each :class:`Part` is one named statement with its own interval against its own
threshold (:func:`part_from_interval`), and :func:`combine_parts` is the one rule that turns a claim's parts into its
:class:`~vaxis.publish.outcomes.Verdict` (claims 6, 7 and 8)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from vaxis.publish.outcomes import Verdict, all_finite, interval_outcome, synthetic_verdict

__all__ = ["PART_OUTCOMES", "Part", "part_from_interval", "combine_parts"]


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
             if all_finite(estimate, ci_low, ci_high) else "non-finite interval")
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
