"""The classification API on real sentences (``fixtures/sentiment_sample.tsv``, see
test_classify_data.py): a short training run beats the majority class on held-out rows, the
TF-IDF baseline is scored on the same rows, the model directory reloads to the same numbers,
attention explains, and numeric sequences classify too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.data.labelled import LabelledSet
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import classify as api
from rnnkit.tasks.classify.model import ClassifyConfig

SAMPLE = Path(__file__).parent / "fixtures" / "sentiment_sample.tsv"
SMALL = dict(hidden=16, embedding=16, char_hidden=8, min_count=1, batch=32, dropout=0.2,
             word_dropout=0.0)


def train_config(steps: int, **options):
    return api.default_train_config(steps=steps, time=None, lr=1e-2, eval_every=20, warmup=5,
                                    **options)


def test_short_real_training_run_beats_the_majority_class(tmp_path):
    out = tmp_path / "model"
    metrics = api.fit(SAMPLE, out, ClassifyConfig(level="both", **SMALL), train_config(120),
                      split=(0.6, 0.2, 0.2))
    rnnkit, baseline = metrics["rnnkit"], metrics["baseline"]
    assert metrics["split"] | {"seed": 0} == {"fractions": [0.6, 0.2, 0.2], "seed": 0,
                                              "train": 228, "valid": 77, "test": 75}
    held_out = [rnnkit[part] for part in ("valid", "test")]
    right = sum(r["accuracy"] * r["count"] for r in held_out)
    majority = sum(max(c["support"] for c in r["per_class"].values()) for r in held_out)
    assert right >= majority + 0.15 * 152  # 152 held-out rows, majority class 77 of them
    for part in ("valid", "test"):
        assert baseline[part]["count"] == rnnkit[part]["count"]
        assert baseline[part]["accuracy"] > 0.6
    assert baseline["name"] == "tfidf-logreg" and baseline["C"] in (1, 2, 4, 8, 16)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["rnnkit"]["test"] == rnnkit["test"] and saved["baseline"]["test"]["confusion"]
    assert (out / "confusion.png").stat().st_size > 1000
    assert "valid_accuracy" in (out / "metrics.csv").read_text().splitlines()[0]

    loaded = api.load(out)
    again = api.evaluate(loaded, SAMPLE, part="test")
    assert again["accuracy"] == rnnkit["test"]["accuracy"]
    assert again["confusion"] == rnnkit["test"]["confusion"]
    kept = json.loads((out / "metrics.json").read_text())  # evaluate keeps its scores there
    assert kept["evaluate"][f"{SAMPLE}:test"]["confusion"] == rnnkit["test"]["confusion"]
    assert kept["rnnkit"]["test"] == rnnkit["test"]
    result = loaded.predict(["i love it!", "what a piece of junk."])
    assert result.names == ["negative", "positive"]
    np.testing.assert_allclose(result.probabilities.sum(1), 1.0)
    assert result.labels == ["positive", "negative"]
    same = api.predict(loaded, ["i love it!", "what a piece of junk."])
    np.testing.assert_array_equal(same.probabilities, result.probabilities)
    assert isinstance(loaded, api.LoadedClassifier) and "predict" in dir(loaded)


def test_attention_explains_and_other_poolings_refuse(tmp_path):
    data = api.resolve(SAMPLE).subset(range(0, 380, 4))
    api.fit(data, tmp_path / "att", ClassifyConfig(pooling="attention", **SMALL),
            train_config(4), baseline=False)
    weights = api.explain(api.load(tmp_path / "att"), "Not bad at all, I love it!")
    assert [t for t, _ in weights] == ["Not", "bad", "at", "all", ",", "I", "love", "it", "!"]
    assert sum(w for _, w in weights) == pytest.approx(1.0)
    api.fit(data, tmp_path / "max", ClassifyConfig(pooling="max", **SMALL), train_config(2),
            baseline=False)
    with pytest.raises(ConfigError, match="^pooling attention is needed to explain a model; "
                                          "this one pools with 'max'") as error:
        api.load(tmp_path / "max").explain("fine")
    assert error.value.parameter == "pooling"


def test_evaluate_refuses_labels_the_model_never_saw(tmp_path):
    data = api.resolve(SAMPLE).subset(range(0, 380, 4))
    api.fit(data, tmp_path / "m", ClassifyConfig(**SMALL), train_config(2), baseline=False)
    other = tmp_path / "other.csv"
    other.write_text("text,label\ngood,positive\nmeh,neutral\nugh,negative\n")
    with pytest.raises(DataError, match="never saw: 'neutral' \\(1 rows\\)"):
        api.evaluate(api.load(tmp_path / "m"), other)


def test_series_classification_learns_the_direction_of_a_trend(tmp_path):
    rng = np.random.default_rng(0)
    sequences, labels = [], []
    for i in range(240):
        n, up = int(rng.integers(6, 20)), i % 2
        steps = np.arange(n) * (0.3 if up else -0.3)
        sequences.append((steps + rng.normal(0, 0.5, n) + rng.normal(0, 2)).reshape(n, 1))
        labels.append(up)
    data = LabelledSet(["down", "up"], np.array(labels), sequences=sequences)
    metrics = api.fit(data, tmp_path / "s", ClassifyConfig(hidden=16, batch=32, dropout=0.0),
                      train_config(150))
    assert metrics["rnnkit"]["test"]["accuracy"] >= 0.9
    assert metrics["baseline"]["name"] == "summary-logreg"
    loaded = api.load(tmp_path / "s")
    rising = np.linspace(0, 3, 10).reshape(10, 1)
    assert api.predict(loaded, [rising, -rising]).labels == ["up", "down"]


def test_balanced_class_weights_come_from_the_training_split(tmp_path):
    full = api.resolve(SAMPLE)
    keep = [i for i in range(380) if full.labels[i] == 1 or i % 4 == 0]  # 1 negative in 4
    data = full.subset(keep)
    api.fit(data, tmp_path / "w", ClassifyConfig(class_weights="balanced", **SMALL),
            train_config(2), baseline=False)
    loaded = api.load(tmp_path / "w")
    counts = np.bincount(api.split_data(data)[0].labels)  # the same split fit made
    assert counts.sum() == loaded.saved["split"]["train"]
    assert loaded.config.weights == pytest.approx([counts.sum() / (2 * n) for n in counts])
    assert loaded.config.weights[0] > 2 > 0.5 < loaded.config.weights[1] < 1

