"""Claim 5: label-only decoders rediscover the V-axis: the population nulls (``nulls``) and the sweep jobs with
their entry point ``jobs.run_rediscovery``."""
