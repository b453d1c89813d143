"""Figures, one function per picture (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def training_curves(
    history: list[dict],
    path: Path,
    title: str,
    metric: str = "loss",
    baseline: float | None = None,
    baseline_label: str = "baseline",
) -> Path:
    """Train and validation ``metric`` against step (and a horizontal baseline), saved as PNG."""
    train = [(r["step"], r[f"train_{metric}"]) for r in history if f"train_{metric}" in r]
    valid = [(r["step"], r[f"valid_{metric}"]) for r in history if f"valid_{metric}" in r]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    if train:
        ax.plot(*zip(*train), label=f"train {metric}", alpha=0.6)
    if valid:
        ax.plot(*zip(*valid), marker="o", label=f"validation {metric}")
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle="--", label=baseline_label)
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
