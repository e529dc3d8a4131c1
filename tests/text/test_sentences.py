import numpy as np
import pandas as pd

from vaxis.text.sentences import CATEGORIES, SENTENCES, SIGNS, TEXTS, sentence_table

FACED_ORDER = ["anger", "disgust", "fear", "sadness", "neutral", "amusement", "inspiration", "joy", "tenderness"]


def test_faced_order_and_signs():
    assert list(CATEGORIES) == FACED_ORDER and isinstance(CATEGORIES, tuple)
    assert isinstance(SIGNS, np.ndarray) and SIGNS.tolist() == [-1, -1, -1, -1, 0, 1, 1, 1, 1]
    assert len(TEXTS) == 9 and len(set(TEXTS)) == 9


def test_table_contract():
    t = sentence_table()
    assert isinstance(t, pd.DataFrame)
    assert list(t.columns[:4]) == ["category", "class_id", "sign", "sentence"]
    assert t["class_id"].tolist() == list(range(9))
    assert t["category"].tolist() == FACED_ORDER and t["sign"].tolist() == SIGNS.tolist()
    assert t["sentence"].tolist() == list(TEXTS)
    pd.testing.assert_frame_equal(SENTENCES, t)


NAMES = {"anger": ["anger", "angry", "furious", "rage"], "disgust": ["disgust", "gross"],
         "fear": ["fear", "afraid", "scared", "terrif"], "sadness": ["sad", "grief", "sorrow"],
         "neutral": ["neutral"], "amusement": ["amus", "funny"], "inspiration": ["inspir"],
         "joy": ["joy", "happy"], "tenderness": ["tender"]}


def test_sentences_are_similar_length_and_do_not_name_their_category():
    words = np.array([len(s.split()) for s in TEXTS])
    assert words.min() >= 12 and words.max() <= 20 and words.max() - words.min() <= 6
    for cat, text in zip(CATEGORIES, TEXTS):
        tokens = [w.strip(".,'!?").lower() for w in text.split()]
        assert not any(tok.startswith(stem) for tok in tokens for stem in NAMES[cat]), (cat, text)
