"""Every script in examples/ runs end to end with a tiny budget on the committed fixtures
(small real data), and returns what it printed; the slow, full-size runs are the scripts'
own defaults."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ALICE = str(FIXTURES / "alice_head.txt")
EXAMPLES = sorted(p.stem for p in (Path(__file__).parent.parent / "examples").glob("*.py"))


def example(name: str):
    return importlib.import_module(name)  # conftest puts examples/ on sys.path


def test_every_example_has_a_test_here():
    tested = {"custom_cell", "dropin", "classify_api", "forecast_api", "load_any"}
    assert set(EXAMPLES) == tested


def test_custom_cell_trains_and_generates_with_a_registered_mingru(tmp_path, capsys):
    metrics = example("custom_cell").main(["--data", ALICE, "--steps", "6", "--hidden", "16",
                                           "--out", str(tmp_path)])
    assert metrics["steps"] == 6
    assert json.loads((tmp_path / "config.json").read_text())["model"]["cell"] == "mingru"
    assert 0 < metrics["valid"]["bpc"] < 8  # a few steps from log2(vocab) ~ 6 bits
    printed = capsys.readouterr().out
    assert "minGRU LM, 2 x 16" in printed and "greedy sample: 'Alice " in printed


def test_dropin_loads_a_torch_state_dict_and_gives_the_same_outputs(capsys):
    result = example("dropin").main(["--steps", "2", "--data", ALICE])
    assert result["native_difference"] == 0.0  # the very same torch call
    assert result["reference_difference"] < 1e-5  # rnnkit's cells: equal to rounding
    assert math.isfinite(result["held_out_loss"]) and len(result["mean_forget_gate"]) == 2
    assert all(0 < f < 1 for f in result["mean_forget_gate"])
    assert "reference backend" in capsys.readouterr().out


def test_classify_api_fits_loads_and_predicts(tmp_path, capsys):
    metrics = example("classify_api").main(
        ["--data", str(FIXTURES / "sentiment_sample.tsv"), "--steps", "3", "--hidden", "8",
         "--out", str(tmp_path)])
    assert metrics["rnnkit"]["steps"] == 3
    assert 0 <= metrics["rnnkit"]["test"]["accuracy"] <= 1
    assert "baseline" in metrics and (tmp_path / "metrics.json").is_file()
    printed = capsys.readouterr().out
    assert printed.count("  row ") == 6 and "truly" in printed


def test_forecast_api_fits_loads_and_predicts_the_next_year(tmp_path, capsys):
    metrics = example("forecast_api").main(
        ["--data", str(FIXTURES / "airpassengers.csv"), "--steps", "4", "--out", str(tmp_path)])
    assert metrics["steps"] == 4 and metrics["horizon"] == 12
    assert {"rnnkit", "snaive"} <= set(metrics["methods"])
    printed = capsys.readouterr().out
    assert "+12" in printed and "(80% interval)" in printed


def test_load_any_opens_a_directory_of_each_task(tmp_path, capsys):
    load_any = example("load_any")
    prediction = load_any.main(["--steps", "3", "--data", ALICE])
    assert len(prediction) > 0 and all(0 < p <= 1 for _, p in prediction)
    assert "task lm" in capsys.readouterr().out
    example("forecast_api").main(["--data", str(FIXTURES / "airpassengers.csv"), "--steps", "2",
                                  "--out", str(tmp_path / "air")])
    capsys.readouterr()
    forecasts = load_any.main([str(tmp_path / "air"), str(FIXTURES / "airpassengers.csv")])
    assert len(forecasts) == 1 and len(forecasts[0].mean) == 12
    assert "task forecast, LoadedForecaster" in capsys.readouterr().out


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_document_how_to_run_them(name):
    doc = example(name).__doc__
    assert f"python examples/{name}.py" in doc


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "bench").glob("*.py")),
                         ids=lambda p: p.name)
def test_benchmark_scripts_import(path, monkeypatch):
    """The benchmarks are not run here (they are slow), but they must still import: a renamed
    function they use breaks them at once, not at the next benchmark run. They import each
    other as ``python bench/x.py`` does: from their own folder."""
    monkeypatch.syspath_prepend(str(path.parent))
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)  # defines main(); runs nothing under __main__
    finally:
        del sys.modules[spec.name]
    assert callable(module.main)
