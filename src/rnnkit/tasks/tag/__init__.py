"""Tagging (a tag per token), the Python API the ``rnnkit tag`` commands mirror.

``fit`` trains a tagger on a tagged file (CoNLL or JSONL) or on a task built from text
(``punct``: punctuation and capitalisation restoration; ``segment``: word segmentation) into a
model directory, and scores it beside the majority-tag baseline on the validation and test
parts; ``load`` opens a directory; ``evaluate`` scores a model on other data; ``predict`` (also
the loaded tagger's method) tags token sequences and ``predict_text`` tags raw text and, for the
built tasks, restores it.

The package: ``model`` (the network and its config), ``task`` (batches -> loss, batched
prediction), ``data`` (sources, parts, vocabulary), ``metrics``, ``baseline`` (majority tag),
``loaded`` (a trained directory and its predictions), ``evaluation``, ``training`` (``fit``).
"""

from __future__ import annotations

from rnnkit.tasks.tag.baseline import MajorityTagger
from rnnkit.tasks.tag.data import PARTS, Source, choose_task, read_data, unknown_rate
from rnnkit.tasks.tag.evaluation import evaluate, score
from rnnkit.tasks.tag.loaded import (
    BASELINE,
    LoadedTagger,
    TextPrediction,
    load,
    predict,
    predict_text,
)
from rnnkit.tasks.tag.metrics import headline, tag_metrics
from rnnkit.tasks.tag.model import TagConfig, Tagger, default_train_config
from rnnkit.tasks.tag.training import fit

__all__ = [
    "BASELINE",
    "PARTS",
    "LoadedTagger",
    "MajorityTagger",
    "Source",
    "TagConfig",
    "Tagger",
    "TextPrediction",
    "choose_task",
    "default_train_config",
    "evaluate",
    "fit",
    "headline",
    "load",
    "predict",
    "predict_text",
    "read_data",
    "score",
    "tag_metrics",
    "unknown_rate",
]
