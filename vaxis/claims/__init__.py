"""One package per claim, each with one entry point its chapter calls: ``projection`` (chapter 4), ``rediscovery``
(5: ``run_rediscovery``), ``alignment`` (6: ``run_alignment``), ``saturation`` (7: ``run_saturation``), ``ensemble``
(8: ``run_ensemble``), ``reference`` (the reference baselines shared by chapters 5-8: ``run_reference``) and
``stimulus`` (the page "Emotion or stimulus?"). ``common`` holds what several claims use: the FACED fold job and its
run sequence, the supervised conditions of chapters 6 and 7 (strategies, loss terms, training), the V-map features
and the probes of chapters 5 and 7. A claim imports ``common`` and ``reference``, never another claim's files."""
