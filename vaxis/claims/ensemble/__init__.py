"""Claim 8: residual-diversity ensembles: the pool (``pool``), the ensembles (``combine``), the comparisons
(``stats``) and the sweep jobs with their entry point ``jobs.run_ensemble``."""
