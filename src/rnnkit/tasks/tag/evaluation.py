"""Scoring a trained tagger beside its majority-tag baseline, on its own parts or other data."""

from __future__ import annotations

from rnnkit.data.tagging import TagData, is_tagged_file
from rnnkit.tasks import base
from rnnkit.tasks.tag.data import Source, check_part, own_part, read_data, unknown_rate
from rnnkit.tasks.tag.loaded import TASK, LoadedTagger, predict
from rnnkit.tasks.tag.metrics import tag_metrics
from rnnkit.train import checkpoint as ckpt

EVALUATION = "evaluation.json"


def score(loaded: LoadedTagger, data: TagData) -> dict:
    """``{"rnnkit": metrics, "baseline": metrics}`` of the model and the majority baseline
    (see :func:`~rnnkit.tasks.tag.metrics.tag_metrics`)."""
    predicted = predict(loaded, data.sentences)
    task = loaded.config.task
    return {"rnnkit": tag_metrics(task, data.tags, predicted, loaded.names),
            "baseline": tag_metrics(task, data.tags, loaded.baseline.predict(data.sentences),
                                    loaded.names)}


def evaluate(loaded: LoadedTagger, data: Source, token_col: int = 0, tag_col: int = -1,
             encoding: str = "utf-8", part: str = "all") -> dict:
    """Scores on ``data`` (a tagged file for ``conll`` models, any text or corpus name for the
    built tasks, or TagData), beside the baseline. ``part`` (train, valid or test) scores only
    that block of the model's own split of ``data``, cut as training cut it.

    The result is written to ``DIR/evaluation.json`` (the last evaluation) and kept in
    ``DIR/metrics.json`` under ``evaluate``, keyed by the data (and part), beside the
    training metrics."""
    check_part(part)  # before the data is read
    task = loaded.config.task
    if task != "conll" and not isinstance(data, TagData) and is_tagged_file(data):
        task = "conll"  # a built task's tags, saved as a tagged file
    tagged = read_data(data, task, loaded.config.max_length, token_col, tag_col, encoding)
    if part != "all":
        tagged = own_part(tagged, part, base.read_config(loaded.directory, TASK).get("read"))
    source = str(tagged.source or ("data" if isinstance(data, TagData) else data))
    result = {"data": source, "part": part, "sequences": len(tagged),
              "tokens": tagged.num_tokens, "unknown_rate": unknown_rate(tagged, loaded.vocab),
              **score(loaded, tagged)}
    ckpt.write_json(loaded.directory / EVALUATION, result)
    base.add_evaluation(loaded.directory, source if part == "all" else f"{source} ({part})",
                        result)
    return result
