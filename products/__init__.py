"""Product definitions and the pure science of each product (numpy/xarray in, xarray out)."""

from __future__ import annotations

from pathlib import Path

PRODUCTS_DIR = Path(__file__).resolve().parent


def product_definition_files() -> list[Path]:
    """Every ODC product definition shipped with snowland, inputs first, then derived products."""
    return sorted(PRODUCTS_DIR.glob("*/*.odc-product.yaml"), key=lambda p: (p.parent.name != "dem", p.name))
