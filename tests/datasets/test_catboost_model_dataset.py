import copy

import numpy as np
from catboost import CatBoostClassifier

from lead_scoring.datasets import CatBoostModelDataset


def test_a_stored_model_predicts_as_fitted_and_its_copies_share_it(tmp_path):
    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 3))
    labels = (features[:, 0] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    fitted = CatBoostClassifier(iterations=20, depth=3, verbose=False, random_seed=0)
    fitted.fit(features, labels)
    dataset = CatBoostModelDataset(filepath=str(tmp_path / "model.cbm"))
    dataset.save(fitted)

    stored = dataset.load()

    np.testing.assert_array_equal(stored.predict_proba(features), fitted.predict_proba(features))
    # The registered model's catalog is deep-copied per prediction; the trees need not be.
    assert copy.deepcopy({"model": stored})["model"] is stored
    assert copy.deepcopy(fitted) is not fitted
