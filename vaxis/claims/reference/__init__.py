"""The reference decoders shared by chapters 5-8 (``baselines.run_reference``)."""
