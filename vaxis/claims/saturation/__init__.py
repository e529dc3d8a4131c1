"""Claim 7: saturation of the valence basin: the measures (``measures``), the five criteria (``criteria``) and
the sweep jobs with their entry point ``jobs.run_saturation``."""
