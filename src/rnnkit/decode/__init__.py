"""Turning a model's next-token scores into tokens: sampling (later: beam search, CTC)."""

from rnnkit.decode.sampling import filter_logits, sample_next

__all__ = ["filter_logits", "sample_next"]
