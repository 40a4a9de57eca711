import json

import numpy as np
import pytest
from scipy import stats

from flows.pipelines.landcover.report import write_report
from products.landcover.nomenclature import load_nomenclature
from products.landcover.validation import (
    accuracy,
    confusion_matrix,
    interval,
    summarise_runs,
)


def test_accuracy_figures_on_a_hand_computed_case():
    reference = np.array([1] * 50 + [2] * 30 + [3] * 20)
    predicted = np.array([1] * 45 + [2] * 5 + [2] * 25 + [3] * 5 + [3] * 18 + [1] * 2)
    acc = accuracy(reference, predicted)
    np.testing.assert_array_equal(acc.confusion, [[45, 5, 0], [0, 25, 5], [2, 0, 18]])
    assert acc.overall_accuracy == pytest.approx(0.88)
    pe = (50 * 47 + 30 * 30 + 20 * 23) / 100**2
    assert acc.kappa == pytest.approx((0.88 - pe) / (1 - pe))
    assert acc.precision[1] == pytest.approx(45 / 47) and acc.recall[3] == pytest.approx(18 / 20)
    p, r = 25 / 30, 25 / 30
    assert acc.f1[2] == pytest.approx(2 * p * r / (p + r))
    assert acc.support == {1: 50, 2: 30, 3: 20}


def test_predictions_outside_the_classes_count_as_errors():
    acc = accuracy(np.array([1, 1, 2, 2]), np.array([1, 0, 2, 2]), classes=[1, 2])
    assert acc.overall_accuracy == pytest.approx(0.75)
    assert acc.recall[1] == pytest.approx(0.5)
    np.testing.assert_array_equal(confusion_matrix(np.array([1, 1, 2, 2]), np.array([1, 0, 2, 2]), [1, 2]), [[1, 0], [0, 2]])


def test_interval_over_runs_uses_student_t():
    values = [0.80, 0.84, 0.82, 0.86]
    iv = interval(values)
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert iv.mean == pytest.approx(0.83) and iv.high - iv.mean == pytest.approx(half)
    assert interval([0.8]).low == interval([0.8]).high == 0.8


def test_runs_summary_sums_confusions_and_averages_figures():
    a = accuracy(np.array([1, 1, 2, 2]), np.array([1, 1, 2, 1]))
    b = accuracy(np.array([1, 2, 3]), np.array([1, 2, 3]))
    summary = summarise_runs([a, b])
    assert summary.classes == (1, 2, 3)
    np.testing.assert_array_equal(summary.confusion, [[3, 0, 0], [1, 2, 0], [0, 0, 1]])
    assert summary.overall_accuracy.mean == pytest.approx((0.75 + 1.0) / 2)
    assert summary.f1[3].runs == 1


def test_report_writes_json_html_and_a_confusion_png(tmp_path):
    oso = load_nomenclature("oso23")
    rng = np.random.default_rng(0)
    runs = []
    for seed in range(3):
        ref = rng.choice([6, 10, 16, 23], size=300)
        pred = np.where(rng.random(300) < 0.85, ref, rng.choice([6, 10, 16, 23], size=300))
        runs.append(accuracy(ref, pred))
    files = write_report(summarise_runs(runs), tmp_path / "report", nomenclature=oso, metadata={"cell": "100kmE38N22", "year": 2021})
    data = json.loads(files.json.read_text())
    assert data["nomenclature"] == "oso23" and len(data["runs"]) == 3
    assert data["class_names"]["10"] == "10 maize" and 0 < data["kappa"]["low"] < data["kappa"]["high"] < 1
    page = files.html.read_text()
    assert "Kappa" in page and "10 maize" in page and files.confusion_png.name in page and "100kmE38N22" in page
    assert files.confusion_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
