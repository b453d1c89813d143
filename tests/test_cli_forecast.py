"""``rnnkit forecast``: train / predict / backtest on a real series, and every user error as one
line with exit code 2 (real subprocesses of the entry point, started together to share the
torch import time)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from rnnkit.cli.main import main

AIR = str(Path(__file__).parent / "fixtures" / "airpassengers.csv")
TINY = ["--hidden", "16", "--steps", "30", "--eval-every", "10"]


def run_main(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    return code, out.getvalue()


def test_train_predict_backtest(tmp_path):
    model = tmp_path / "model"
    code, out = run_main("forecast", "train", "--data", AIR, "--horizon", "12", "--out",
                         str(model), "--baselines", "snaive,naive2,ets", *TINY, "--json")
    assert code == 0
    metrics = json.loads(out)
    assert set(metrics["methods"]) == {"rnnkit", "snaive", "naive2", "ets"}
    for row in metrics["methods"].values():
        assert {"smape", "mase", "mae", "rmse", "owa"} <= set(row)
    assert metrics["methods"]["naive2"]["owa"] == pytest.approx(1.0)
    assert json.loads((model / "metrics.json").read_text())["methods"] == metrics["methods"]
    assert (model / "forecast.csv").read_text().count("\n") == 1 + 12
    assert list((model / "plots").glob("*.png"))

    code, out = run_main("forecast", "predict", str(model), "--data", AIR, "--json")
    assert code == 0
    rows = json.loads(out)["forecast"]
    assert [r["time"][:7] for r in rows[:2]] == ["1961-01", "1961-02"]
    assert all(r["lo95"] <= r["lo80"] <= r["hi80"] <= r["hi95"] for r in rows)
    assert (model / "prediction" / "forecast.csv").is_file()
    code, out = run_main("forecast", "predict", str(model), "--data", AIR, "--json",
                         "--precision", "bf16")
    half = json.loads(out)["forecast"]
    assert code == 0 and [r["time"] for r in half] == [r["time"] for r in rows]
    assert [r["forecast"] for r in half] == pytest.approx([r["forecast"] for r in rows],
                                                          rel=0.03)

    code, out = run_main("forecast", "backtest", "--data", AIR, "--horizon", "6", "--windows",
                         "2", "--out", str(tmp_path / "bt"), "--baselines", "naive,snaive",
                         *TINY, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["windows"] == 2 and report["series"] == 1
    assert set(report["methods"]) == {"rnnkit", "naive", "snaive", "naive2"}


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


# the user errors of rnnkit forecast: cases of tests/bad_inputs.py (test_bad_inputs.py)
