"""Baselines every rnnkit result is reported beside: n-gram language models (Kneser-Ney)."""

from rnnkit.baselines.ngram import (
    KneserNey,
    NgramResult,
    bits_per_char,
    fit_baselines,
    modified_kn_discounts,
    perplexity,
)

__all__ = [
    "KneserNey",
    "NgramResult",
    "bits_per_char",
    "fit_baselines",
    "modified_kn_discounts",
    "perplexity",
]
