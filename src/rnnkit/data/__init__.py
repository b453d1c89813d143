"""Data: real datasets by name, reading text files, tokenizers, vocabularies, token streams.

- :mod:`~rnnkit.data.registry`: ``list_datasets``, ``fetch(name)``, ``resolve_text(name or path)``
- :mod:`~rnnkit.data.text`: ``read_text_file``, ``CharTokenizer``, ``WordTokenizer``
- :mod:`~rnnkit.data.vocab`: ``Vocabulary`` (token <-> id, saved with a model as JSON)
- :mod:`~rnnkit.data.streams`: ``split_stream``, ``batchify``, ``Segments`` (truncated BPTT)
"""

from rnnkit.data.labelled import read_labelled  # noqa: F401 (also registers "sentiment")
from rnnkit.data.registry import (
    DatasetInfo,
    cache_dir,
    fetch,
    get_info,
    list_datasets,
    register,
    resolve_text,
)
from rnnkit.data.series import read_series  # also registers the named series datasets
from rnnkit.data.streams import (
    DEFAULT_FRACTIONS,
    Segments,
    Splits,
    batchify,
    check_fractions,
    parse_fractions,
    split_stream,
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
from rnnkit.data.vocab import Vocabulary

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
    "read_series",
    "read_text_file",
    "register",
    "resolve_text",
    "split_stream",
]
