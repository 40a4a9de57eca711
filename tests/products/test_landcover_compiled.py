import numpy as np
import pytest
from helpers import blob_samples

from flows.storage.models import load_model, save_model
from products.landcover.classify import CLASSIFIERS, ClassifierSpec, forest_votes, predict, train


def test_the_compiled_forest_votes_as_scikit_learn_and_survives_its_model_file(tmp_path):
    """Same seed, same trees: the ONNX graphs give scikit-learn's votes, full and early-stopped, and the
    saved model predicts the same after loading."""
    params = {"n_estimators": 20, "max_depth": 8, "min_samples_split": 5, "max_features": "sqrt"}
    options = {"vote_batch": 5, "vote_agreement": 0.7}
    samples = blob_samples(spread=0.9)
    x = np.random.default_rng(1).normal(2.0, 1.8, (400, 6)).astype(np.float32)
    x[:50] = samples.features[:50]
    for family, extra in (("extra_trees", {"bootstrap": True, "max_samples": 0.5}), ("random_forest", {})):
        spec = ClassifierSpec("compiled_forest", {**params, **extra, "family": family}, options)
        compiled = train(samples, nomenclature="t", spec=spec, seed=3)
        forest = train(samples, nomenclature="t", spec=ClassifierSpec(family, {**params, **extra}), seed=3).estimator
        for agreement in (None, 0.7):
            np.testing.assert_array_equal(compiled.estimator.class_shares(x, agreement=agreement),
                                          forest_votes(forest, x, batch=5, agreement=agreement))
    x[0, 2] = np.nan
    codes, confidence = predict(compiled, x)
    assert codes[0] == 0 and confidence[0] == 0 and set(codes[1:]) <= {11, 22, 33}
    loaded = load_model(save_model(compiled, tmp_path / "lc"))
    for got, want in zip(predict(loaded, x), (codes, confidence)):
        np.testing.assert_array_equal(got, want)
    assert "onnxruntime" in loaded.library_versions and CLASSIFIERS["et_compiled"].kind == "compiled_forest"


def test_a_compiled_forest_refuses_voting_stages_it_cannot_follow():
    spec = ClassifierSpec("compiled_forest", {"n_estimators": 10}, {"vote_stages": (5,), "vote_margin": 2.0})
    with pytest.raises(ValueError, match="takes no `vote_stages`"):
        train(blob_samples(), nomenclature="t", spec=spec)
