"""Balanced accuracy, macro F1 and the clip-level metrics (vaxis.decoding.metrics) against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from vaxis.decoding.metrics import balanced_accuracy, macro_f1, metrics


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 9, 300)
        p = np.where(rng.random(300) < 0.4, y, rng.integers(0, 9, 300))
        p[p == 3] = 4                                              # a class never predicted
        assert balanced_accuracy(y, p, 9) == pytest.approx(balanced_accuracy_score(y, p))
        assert macro_f1(y, p, 9) == pytest.approx(f1_score(y, p, average="macro"))


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_metrics_skip_classes_absent_from_y():
    """Balanced accuracy averages recall over the classes present in ``y`` only, even with ``n_classes`` given."""
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])                       # classes 3..8 never occur
    p = np.array([0, 0, 1, 1, 1, 2, 0, 5])                       # class 5 predicted but absent from y
    # recalls by hand: class 0 2/3, class 1 2/2, class 2 1/3 -> (2/3 + 1 + 1/3) / 3 = 2/3
    assert balanced_accuracy(y, p, 9) == pytest.approx(2 / 3)
    assert balanced_accuracy(y, p, 9) == pytest.approx(balanced_accuracy_score(y, p))
    # F1 by hand: class 0 tp 2 (support 3, predicted 3) 2/3; class 1 tp 2 (2, 3) 4/5; class 2 tp 1 (3, 1) 1/2;
    # class 5 tp 0 (0, 1) 0 -> macro over the 4 classes in y or p
    assert macro_f1(y, p, 9) == pytest.approx((2 / 3 + 4 / 5 + 1 / 2 + 0) / 4)
    assert macro_f1(y, p, 9) == pytest.approx(f1_score(y, p, average="macro"))
    rng = np.random.default_rng(3)
    for _ in range(20):                                          # random subsets of the 9 classes
        present = rng.choice(9, rng.integers(1, 9), replace=False)
        yy = rng.choice(present, 200)
        pp = np.where(rng.random(200) < 0.5, yy, rng.integers(0, 9, 200))
        assert balanced_accuracy(yy, pp, 9) == pytest.approx(balanced_accuracy_score(yy, pp))
        assert macro_f1(yy, pp, 9) == pytest.approx(f1_score(yy, pp, average="macro"))
        logp = np.log(np.eye(9)[pp] * 0.9 + 0.1 / 9)             # metrics() passes n_classes = logp.shape[1]
        assert metrics(yy, logp)["window"]["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(yy, pp))
    # without n_classes the class count comes from the labels and predictions themselves (mutation testing found
    # no test reaching that default)
    assert balanced_accuracy(y, p) == pytest.approx(2 / 3) and macro_f1(y, p) == pytest.approx(f1_score(y, p,
                                                                                                   average="macro"))


def test_clip_level_sums_window_log_probs():
    logp = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]]))
    out = metrics(np.array([0, 0, 1, 1]), logp, units=np.array([0, 0, 1, 1]))
    # unit 0: 0.9*0.2=0.18 vs 0.1*0.8=0.08 -> class 0 (right); unit 1: 0.18 vs 0.28 -> class 1 (right)
    assert out["clip"]["accuracy"] == 1.0 and out["window"]["accuracy"] == 0.5
