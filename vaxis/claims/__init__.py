"""One home per claim's machinery and its sweep fold job: projection (chapter 4); rediscovery and probes (5);
alignment_* (6); saturation_* (7); ensemble_* (8); reference (the shared reference baselines of chapters 5-8)."""
