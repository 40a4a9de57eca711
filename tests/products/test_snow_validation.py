"""Scores of a snow map against its reference: accuracy and kappa on clear pixels, and how clouds were told apart."""

import numpy as np

from products.snow.codes import CLOUD, NO_SNOW, NODATA, SNOW
from products.snow.validation import score_snow


def test_clear_ground_called_cloud_and_cloud_called_snow_are_counted_apart_from_the_accuracy():
    reference = np.array([SNOW, SNOW, SNOW, NO_SNOW, NO_SNOW, CLOUD, CLOUD, CLOUD, CLOUD, NODATA])
    product = np.array([SNOW, CLOUD, NO_SNOW, CLOUD, NO_SNOW, SNOW, CLOUD, CLOUD, NO_SNOW, SNOW])
    score = score_snow(product=product, reference=reference)
    assert score.n == 3 and score.clear_called_cloud == 2 and score.clear_called_cloud_share == 2 / 5
    assert score.snow_called_cloud_share == 1 / 3
    assert (score.cloud, score.cloud_called_snow, score.cloud_called_snow_share) == (4, 1, 0.25)
    total = score + score
    assert (total.cloud, total.cloud_called_snow, total.clear_called_cloud_share) == (8, 2, 0.4)
