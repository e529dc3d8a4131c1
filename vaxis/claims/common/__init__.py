"""Shared by several claims: the FACED fold job and run sequence (``jobs``), the alignment strategies and loss
terms (``strategies``, ``terms``) and the training of supervised conditions (``conditions``) of chapters 6 and 7,
and the probes of chapters 5 and 7 (``probes``)."""
