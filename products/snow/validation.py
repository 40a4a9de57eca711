"""Agreement of a snow map with a reference map: accuracy and Cohen's kappa on snow / no snow, and how clouds
were told apart: clear ground (and snow) called cloud, and cloud called snow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from products.snow.codes import CLOUD, NO_SNOW, SNOW


@dataclass(frozen=True, kw_only=True)
class SnowScore:
    """Confusion counts on pixels clear in the reference and classified by the product."""

    snow_snow: int
    snow_nosnow: int  # product snow, reference no snow
    nosnow_snow: int  # product no snow, reference snow
    nosnow_nosnow: int
    clear_called_cloud: int  # reference clear, product cloud: not scored, but counted
    snow_called_cloud: int = 0  # reference snow, product cloud (part of clear_called_cloud): snow lost to cloud
    cloud: int = 0  # reference cloud
    cloud_called_snow: int = 0  # reference cloud, product snow: snow on cloud

    @property
    def n(self) -> int:
        return self.snow_snow + self.snow_nosnow + self.nosnow_snow + self.nosnow_nosnow

    @property
    def accuracy(self) -> float:
        return (self.snow_snow + self.nosnow_nosnow) / self.n if self.n else float("nan")

    @property
    def kappa(self) -> float:
        """Cohen's kappa; 1 when both maps are one class and agree everywhere."""
        if not self.n:
            return float("nan")
        p_product_snow = (self.snow_snow + self.snow_nosnow) / self.n
        p_reference_snow = (self.snow_snow + self.nosnow_snow) / self.n
        expected = p_product_snow * p_reference_snow + (1 - p_product_snow) * (1 - p_reference_snow)
        return 1.0 if expected == 1 else (self.accuracy - expected) / (1 - expected)

    @property
    def clear_called_cloud_share(self) -> float:
        """Share of the reference's clear ground (snow or not) that the product calls cloud."""
        clear = self.n + self.clear_called_cloud
        return self.clear_called_cloud / clear if clear else float("nan")

    @property
    def snow_called_cloud_share(self) -> float:
        """Share of the reference's snow that the product calls cloud."""
        snow = self.snow_snow + self.nosnow_snow + self.snow_called_cloud
        return self.snow_called_cloud / snow if snow else float("nan")

    @property
    def cloud_called_snow_share(self) -> float:
        """Share of the reference's cloud that the product calls snow ("snow on cloud")."""
        return self.cloud_called_snow / self.cloud if self.cloud else float("nan")

    def __add__(self, other: SnowScore) -> SnowScore:
        return SnowScore(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})


def score_snow(*, product: np.ndarray, reference: np.ndarray) -> SnowScore:
    """Scores the product's 0/100 codes where the reference is 0 or 100; other codes are left out."""
    product, reference = np.asarray(product), np.asarray(reference)
    if product.shape != reference.shape:
        raise ValueError(f"product {product.shape} and reference {reference.shape} are not on one grid")
    clear = (reference == SNOW) | (reference == NO_SNOW)
    p_snow, p_none = product == SNOW, product == NO_SNOW
    r_snow, r_none = reference == SNOW, reference == NO_SNOW
    return SnowScore(
        snow_snow=int((p_snow & r_snow).sum()),
        snow_nosnow=int((p_snow & r_none).sum()),
        nosnow_snow=int((p_none & r_snow).sum()),
        nosnow_nosnow=int((p_none & r_none).sum()),
        clear_called_cloud=int((clear & ~p_snow & ~p_none).sum()),
        snow_called_cloud=int((r_snow & (product == CLOUD)).sum()),
        cloud=int((reference == CLOUD).sum()),
        cloud_called_snow=int(((reference == CLOUD) & p_snow).sum()),
    )
