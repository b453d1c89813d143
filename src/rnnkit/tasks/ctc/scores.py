"""Character and word error rates as everyone computes them (``jiwer``), and exact match."""

from __future__ import annotations

from collections.abc import Sequence


def text_scores(outputs: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """``cer`` and ``wer`` (edit distance over all references' characters / words, jiwer's
    definition) and ``exact`` (the share of outputs equal to their reference)."""
    import jiwer

    if not references:
        return {"cer": 0.0, "wer": 0.0, "exact": 0.0}
    # jiwer refuses empty references: a space stands in (one character to get right)
    refs = [r if r.strip() else " " for r in references]
    outs = list(outputs)
    words = [r for r in refs if r.split()]
    return {
        "cer": float(jiwer.cer(refs, outs)),
        "wer": float(jiwer.wer(words, [o for o, r in zip(outs, refs) if r.split()]))
        if words else 0.0,
        "exact": sum(o == r for o, r in zip(outputs, references)) / len(references),
    }
