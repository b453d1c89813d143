"""Turning a model's next-token scores into tokens: sampling (later: beam search, CTC)."""

from rnnkit.decode.sampling import Sampler, check_sampling, filter_logits, sample_next

__all__ = ["Sampler", "check_sampling", "filter_logits", "sample_next"]
