"""Claim 4: a linear projection of EEG onto the LLM's valence axis (``maps``)."""
