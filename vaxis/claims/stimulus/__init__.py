"""The page "Emotion or stimulus?": the readings of the seen-clip and unseen-clip reference runs (``readings``)."""
