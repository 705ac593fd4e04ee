"""Tagging metrics: hand-computed examples and agreement with scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_score, recall_score

from ram_model.evaluate.metrics import (
    average_precision,
    evaluation_report,
    mean_average_precision,
    per_class_average_precision,
    precision_recall_at_thresholds,
)


def test_average_precision_of_a_hand_ranked_list():
    # ranks: TP, FP, TP, FP -> precision 1 at recall 0.5, 2/3 at recall 1
    assert average_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0])) == pytest.approx(5 / 6)


def test_average_precision_treats_tied_scores_as_one_threshold():
    # the tie at 0.9 holds one positive and one negative: P=1/2 at R=1/2, then P=2/3 at R=1
    ap = average_precision(np.array([0.9, 0.9, 0.1]), np.array([0, 1, 1]))
    assert ap == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)


def test_average_precision_is_nan_without_positives():
    assert np.isnan(average_precision(np.array([0.3, 0.2]), np.array([0, 0])))


def test_map_averages_only_classes_with_positives():
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.4]])
    targets = np.array([[1, 0, 0], [0, 0, 0]])  # only class 0 has a positive; it is ranked first
    assert mean_average_precision(scores, targets) == pytest.approx(1.0)


def test_per_class_ap_matches_sklearn_including_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((200, 9)), 1)  # rounding creates many ties
    targets = (rng.random((200, 9)) < 0.3).astype(int)
    ours = per_class_average_precision(scores, targets)
    theirs = [average_precision_score(targets[:, c], scores[:, c]) for c in range(9)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_precision_recall_family_on_a_hand_example():
    scores = np.array([[0.9, 0.6], [0.7, 0.2], [0.1, 0.8]])
    targets = np.array([[1, 1], [0, 0], [1, 1]])
    # threshold 0.5 predicts {0,1}, {0}, {1}: class 0 TP1 FP1 FN1, class 1 TP2 FP0 FN0
    got = precision_recall_at_thresholds(scores, targets, 0.5)
    assert got["CP"] == pytest.approx((1 / 2 + 1) / 2)
    assert got["CR"] == pytest.approx((1 / 2 + 1) / 2)
    assert got["OP"] == pytest.approx(3 / 4)
    assert got["OR"] == pytest.approx(3 / 4)
    assert got["CF1"] == pytest.approx(0.75)
    assert got["OF1"] == pytest.approx(0.75)


def test_thresholds_are_strict_and_per_class():
    scores = np.array([[0.5, 0.5]])
    targets = np.array([[1, 1]])
    got = precision_recall_at_thresholds(scores, targets, [0.5, 0.4])  # 0.5 > 0.5 is false
    assert got["CR"] == pytest.approx(0.5)
    assert got["CP"] == pytest.approx(0.5)  # the unpredicted class counts as precision 0


def test_precision_recall_family_matches_sklearn():
    rng = np.random.default_rng(1)
    scores = rng.random((300, 12))
    targets = (rng.random((300, 12)) < 0.25).astype(int)
    targets[0, :] = 1  # every class has positives
    thr = rng.uniform(0.3, 0.7, size=12)
    pred = (scores > thr).astype(int)
    got = precision_recall_at_thresholds(scores, targets, thr)
    assert got["CP"] == pytest.approx(precision_score(targets, pred, average="macro", zero_division=0))
    assert got["CR"] == pytest.approx(recall_score(targets, pred, average="macro", zero_division=0))
    assert got["OP"] == pytest.approx(precision_score(targets, pred, average="micro", zero_division=0))
    assert got["OR"] == pytest.approx(recall_score(targets, pred, average="micro", zero_division=0))
    assert got["CF1"] == pytest.approx(2 * got["CP"] * got["CR"] / (got["CP"] + got["CR"]))


def test_report_lists_ap_per_tag_and_none_for_tags_without_positives():
    scores = np.array([[0.9, 0.1], [0.2, 0.3]])
    targets = np.array([[1, 0], [0, 0]])
    report = evaluation_report(scores, targets, ["cat", "dog"], 0.5)
    assert report["per_tag_ap"] == {"cat": 1.0, "dog": None}
    assert report["mAP"] == 1.0
    assert report["num_classes_with_positives"] == 1
