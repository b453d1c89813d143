"""label_report against hand-computed values."""

from __future__ import annotations

import pytest

from rnnkit.metrics.labels import label_report


def test_label_report_by_hand():
    # truth:     a a a b b c
    # predicted: a a b b c c
    r = label_report([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ["a", "b", "c"])
    assert r["accuracy"] == pytest.approx(4 / 6)
    # a: P 2/2, R 2/3, F1 0.8; b: P 1/2, R 1/2, F1 0.5; c: P 1/2, R 1/1, F1 2/3
    assert r["per_class"]["a"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8,
                                                 "support": 3})
    assert r["per_class"]["c"]["f1"] == pytest.approx(2 / 3)
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # leaving class c out of macro-F1 (accuracy unchanged)
    r = label_report([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ["a", "b", "c"], ignore=[2])
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5) / 2)
    assert r["accuracy"] == pytest.approx(4 / 6)
