"""Validation report: JSON for machines, an HTML page with a confusion-matrix PNG for people."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from flows.ask.quicklook import save_figure  # noqa: E402
from flows.storage.atomic import write_text  # noqa: E402
from products.landcover.nomenclature import Nomenclature  # noqa: E402
from products.landcover.validation import RunsSummary  # noqa: E402


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    html: Path
    confusion_png: Path


def class_label(code: int, nomenclature: Nomenclature | None) -> str:
    if nomenclature is not None and code in nomenclature.codes:
        return f"{code} {nomenclature.name_of(code)}"
    return str(code)


def plot_confusion(summary: RunsSummary, path: str | Path, *, nomenclature: Nomenclature | None = None, title: str = "") -> Path:
    """Row-normalised confusion matrix (summed over runs), counts written in the cells when few classes."""
    cm = summary.confusion.astype(float)
    share = np.divide(cm, cm.sum(axis=1, keepdims=True), out=np.zeros_like(cm), where=cm.sum(axis=1, keepdims=True) > 0)
    labels = [class_label(c, nomenclature) for c in summary.classes]
    size = max(4.0, 0.45 * len(labels) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    ax.set_title(title or "Confusion matrix (share of reference pixels)", fontsize=10)
    if len(labels) <= 25:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if cm[i, j]:
                    ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=6, color="white" if share[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return save_figure(fig, path)


def report_dict(summary: RunsSummary, *, nomenclature: Nomenclature | None = None, metadata: Mapping[str, Any] | None = None) -> dict:
    out = {"metadata": dict(metadata or {}), "nomenclature": nomenclature.name if nomenclature else None}
    out.update(summary.as_dict())
    if nomenclature is not None:
        out["class_names"] = {str(c): class_label(c, nomenclature) for c in summary.classes}
    return out


def write_report(
    summary: RunsSummary,
    folder: str | Path,
    *,
    nomenclature: Nomenclature | None = None,
    title: str = "Land-cover validation",
    metadata: Mapping[str, Any] | None = None,
    stem: str = "validation",
) -> ReportFiles:
    """Write `<stem>.json`, `<stem>.html` and `<stem>_confusion.png` into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path, png_path = folder / f"{stem}.json", folder / f"{stem}.html", folder / f"{stem}_confusion.png"
    write_text(json_path, json.dumps(report_dict(summary, nomenclature=nomenclature, metadata=metadata), indent=2,
                                     ensure_ascii=False))
    plot_confusion(summary, png_path, nomenclature=nomenclature, title=title)
    write_text(html_path, _html(summary, title=title, png=png_path.name, nomenclature=nomenclature,
                                metadata=metadata or {}))
    return ReportFiles(json=json_path, html=html_path, confusion_png=png_path)


def _fmt(iv: Any) -> str:
    if iv.runs > 1:
        return f"{iv.mean:.3f} <small>[{iv.low:.3f}, {iv.high:.3f}]</small>"
    return "–" if not np.isfinite(iv.mean) else f"{iv.mean:.3f}"


def _html(summary: RunsSummary, *, title: str, png: str, nomenclature: Nomenclature | None, metadata: Mapping[str, Any]) -> str:
    esc = html.escape
    runs = len(summary.runs)
    support = summary.confusion.sum(axis=1)
    rows = "\n".join(
        f"<tr><td>{esc(class_label(c, nomenclature))}</td><td>{int(support[i])}</td>"
        f"<td>{_fmt(summary.precision[c])}</td><td>{_fmt(summary.recall[c])}</td><td>{_fmt(summary.f1[c])}</td></tr>"
        for i, c in enumerate(summary.classes)
    )
    meta = "\n".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in metadata.items())
    interval_note = "mean [95 % interval, Student t]" if runs > 1 else "single run"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }}
.big {{ font-size: 1.4em; }}
</style></head>
<body>
<h1>{esc(title)}</h1>
<p>{runs} run(s), {interval_note}; validation pixels from polygons never used for learning.</p>
<table>
<tr><th>Overall accuracy</th><td class="big">{_fmt(summary.overall_accuracy)}</td></tr>
<tr><th>Kappa</th><td class="big">{_fmt(summary.kappa)}</td></tr>
</table>
<h2>Per class</h2>
<table><tr><th>class</th><th>reference pixels (all runs)</th><th>precision</th><th>recall</th><th>F1</th></tr>
{rows}
</table>
<h2>Confusion matrix</h2>
<img src="{esc(png)}" alt="confusion matrix">
<h2>Run</h2>
<table>{meta}</table>
</body></html>
"""


def plot_land_cover(classes: np.ndarray, path: str | Path, *, nomenclature: Nomenclature, title: str = "",
                    extent: tuple[float, float, float, float] | None = None, nodata: int = 0) -> Path:
    """A class map in the nomenclature's colours with a legend of the classes present (nodata white)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    present = [int(c) for c in np.unique(classes) if c != nodata and c in nomenclature.codes]
    index = np.zeros(classes.shape, dtype=np.int16)
    for i, code in enumerate(present, start=1):
        index[classes == code] = i
    colours = ["#ffffff"] + [nomenclature.colours[nomenclature.codes.index(c)] for c in present]
    fig, ax = plt.subplots(figsize=(8.5, 6))
    ax.imshow(index, cmap=ListedColormap(colours), vmin=0, vmax=len(colours) - 1, interpolation="nearest",
              extent=extent)
    ax.legend(handles=[Patch(color=colours[i], label=class_label(c, nomenclature)) for i, c in enumerate(present, 1)],
              loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    ax.set_title(title or f"Land cover ({nomenclature.name})", fontsize=10)
    ax.ticklabel_format(style="plain")
    ax.tick_params(labelsize=7)
    return save_figure(fig, path)
