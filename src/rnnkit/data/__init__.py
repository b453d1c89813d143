"""Data: real datasets by name, reading text files, tokenizers, vocabularies, token streams.

- :mod:`~rnnkit.data.registry`: ``list_datasets``, ``fetch(name)``, ``resolve_text(name or path)``
- :mod:`~rnnkit.data.text`: ``read_text_file``, ``CharTokenizer``, ``WordTokenizer``
- :mod:`~rnnkit.data.vocab`: ``Vocabulary`` (token <-> id, saved with a model as JSON)
- :mod:`~rnnkit.data.streams`: ``split_stream``, ``batchify``, ``Segments`` (truncated BPTT)
"""

# the named series, labelled, aligned (pairs), image and audio datasets register themselves
# here; their readers (pandas, pysword, torch) load on first use, so that `rnnkit data list`
# and every import of rnnkit.data stay quick
from rnnkit._lazy import lazy_exports
from rnnkit.data import (  # noqa: F401
    audio,
    images,
    labelled_sources,
    pairs_sources,
    series_sources,
)
from rnnkit.data.registry import (
    DatasetInfo,
    cache_dir,
    fetch,
    get_info,
    list_datasets,
    register,
    resolve_text,
)
from rnnkit.data.text import (
    EOS,
    UNK,
    CharTokenizer,
    WordTokenizer,
    check_length,
    make_tokenizer,
    read_text_file,
)

__all__ = [
    "DEFAULT_FRACTIONS",
    "EOS",
    "UNK",
    "CharTokenizer",
    "DatasetInfo",
    "Segments",
    "Splits",
    "Vocabulary",
    "WordTokenizer",
    "batchify",
    "cache_dir",
    "check_fractions",
    "check_length",
    "fetch",
    "get_info",
    "list_datasets",
    "make_tokenizer",
    "parse_fractions",
    "read_labelled",
    "read_series",
    "read_text_file",
    "register",
    "resolve_text",
    "split_stream",
]


# loaded on first use: streams and vocabularies need torch, the readers pandas; the registry
# (``rnnkit data list|get``) needs neither
_LAZY = {
    **dict.fromkeys(("DEFAULT_FRACTIONS", "Segments", "Splits", "batchify", "check_fractions",
                     "parse_fractions", "split_stream"), "rnnkit.data.streams"),
    "Vocabulary": "rnnkit.data.vocab",
    "read_series": "rnnkit.data.series",
    "read_labelled": "rnnkit.data.labelled",
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
