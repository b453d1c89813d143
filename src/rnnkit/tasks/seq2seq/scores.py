"""Scores of outputs against references: corpus BLEU and chrF from sacrebleu (its standard
13a tokenisation; the signatures are kept beside the numbers), exact match, and the mean
length ratio."""

from __future__ import annotations

from collections.abc import Sequence


def text_scores(outputs: Sequence[str], references: Sequence[str]) -> dict:
    """``bleu``, ``chrf`` (0-100), ``exact`` (0-1), ``length_ratio`` and sacrebleu's
    signatures, for one output per reference."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(outputs) != len(references):
        raise ValueError(f"{len(outputs)} outputs for {len(references)} references")
    outputs, references = list(outputs), list(references)
    bleu, chrf = BLEU(), CHRF()
    b = bleu.corpus_score(outputs, [references])
    c = chrf.corpus_score(outputs, [references])
    exact = sum(o == r for o, r in zip(outputs, references)) / max(1, len(references))
    return {"bleu": round(b.score, 2), "chrf": round(c.score, 2), "exact": exact,
            "length_ratio": round(b.sys_len / max(1, b.ref_len), 4), "pairs": len(references),
            "signature": {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())}}


HEADLINE = ("bleu", "chrf", "exact")
