"""The nine stimulus sentences: one per FACED emotion category.

Written for this project (the paper's sentences are not public). Each is a concrete, first-person scene of
similar length (15-19 words) that evokes its category the way a FACED clip does, by situation rather than by
naming the emotion: no sentence contains its category's name or a synonym of it. That keeps the V-axis from
being a lexicon of emotion words. The order and class ids follow FACED / torcheeg: anger 0, disgust 1, fear 2,
sadness 3 (negative, sign -1), neutral 4 (sign 0), amusement 5, inspiration 6, joy 7, tenderness 8 (positive, +1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CATEGORIES", "SIGNS", "SENTENCES", "TEXTS", "sentence_table"]

CATEGORIES: tuple[str, ...] = (
    "anger", "disgust", "fear", "sadness", "neutral", "amusement", "inspiration", "joy", "tenderness",
)

_ROWS = (
    ("anger", -1, "The landlord kept our deposit with a smirk, lied to the judge, and laughed at us outside."),
    ("disgust", -1, "I bit into the sandwich and found maggots crawling through the rotten, slimy meat inside."),
    ("fear", -1, "Alone in the dark house, I heard slow footsteps climbing the stairs toward my bedroom door."),
    ("sadness", -1, "We buried my old dog under the apple tree, and his empty bowl still sits by the door."),
    ("neutral", 0, "The bus arrives at the station at nine, and the ticket office is on the second floor."),
    ("amusement", 1, "The puppy chased its own tail so hard it tumbled into the laundry basket, squeaking."),
    ("inspiration", 1, "After years of rehab, the injured runner crossed the finish line and the whole stadium rose."),
    ("joy", 1, "She opened the letter, screamed that she got in, and we danced around the kitchen together."),
    ("tenderness", 1,
     "My grandmother held the newborn close, humming softly, while the baby's tiny hand gripped her finger."),
)

#: Sign per category: -1 negative, 0 neutral, +1 positive; shape (9,).
SIGNS: np.ndarray = np.array([r[1] for r in _ROWS], dtype=int)
#: The nine sentences in category order.
TEXTS: tuple[str, ...] = tuple(r[2] for r in _ROWS)


def sentence_table() -> pd.DataFrame:
    """The nine sentences as a table: ``category``, ``class_id``, ``sign``, ``sentence``, ``n_words``."""
    df = pd.DataFrame(_ROWS, columns=["category", "sign", "sentence"])
    df.insert(1, "class_id", np.arange(len(df)))
    df["n_words"] = df["sentence"].str.split().str.len()
    return df


#: The same table (category, class_id, sign, sentence, n_words), for callers that want a DataFrame.
SENTENCES: pd.DataFrame = sentence_table()
