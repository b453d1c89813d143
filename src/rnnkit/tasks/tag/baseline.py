"""The baseline every tagger is scored beside: each token's most frequent training tag."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from rnnkit.data.tagging import TagData


class MajorityTagger:
    """The baseline: each token's most frequent training tag, else the overall most frequent
    tag (ties go to the tag listed first in ``names``, i.e. the more frequent overall)."""

    def __init__(self, table: dict[str, str], default: str) -> None:
        self.table, self.default = table, default

    @classmethod
    def fit(cls, data: TagData, names: Sequence[str]) -> MajorityTagger:
        rank = {name: i for i, name in enumerate(names)}
        counts: dict[str, Counter] = defaultdict(Counter)
        for tokens, labels in zip(data.sentences, data.tags):
            for token, tag in zip(tokens, labels):
                counts[token][tag] += 1
        table = {token: min(c, key=lambda t: (-c[t], rank[t])) for token, c in counts.items()}
        return cls(table, names[0])

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [[self.table.get(t, self.default) for t in tokens] for tokens in sentences]

    def to_dict(self) -> dict:
        return {"default": self.default, "table": self.table}

    @classmethod
    def from_dict(cls, saved: dict) -> MajorityTagger:
        return cls(dict(saved["table"]), saved["default"])
