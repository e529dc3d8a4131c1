"""Claim 6: LLM supervision of EEG decoders: the weight choice and run (``train``), the distillation controls
(``controls``), the strategy tests (``stats``) and the sweep jobs with their entry point ``jobs.run_alignment``."""
