"""Text stage: the nine sentences, language models and hidden states, the V-axis, sentiment benchmarks, zero-shot
scoring and cross-model agreement (chapters 1-3)."""
