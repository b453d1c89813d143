"""The forecaster: window transforms round-trip, both decoders beat naive on a real series, the
heads, and backtests that cannot see past their origins (checked by poisoning the future)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.baselines.forecast import forecast_baseline
from rnnkit.data.series import read_series
from rnnkit.metrics import forecast as M
from rnnkit.tasks import forecast as api
from rnnkit.tasks.forecast import ForecastConfig, Forecaster, heads
from rnnkit.tasks.forecast.data import Panel, invert, make_batch, window_statistics

AIR = Path(__file__).parent / "fixtures" / "airpassengers.csv"


@pytest.fixture(scope="module")
def air():
    return read_series(AIR)


def panel_of(values: list[np.ndarray]) -> Panel:
    return Panel.build(values, [np.zeros((len(v), 0)) for v in values],
                       [np.zeros((len(v), 0)) for v in values])


@pytest.mark.parametrize("scaling", ["mean", "standard", "mase", "none"])
@pytest.mark.parametrize("difference,lag", [("none", 0), ("first", 1), ("seasonal", 4)])
def test_window_transform_round_trips(scaling, difference, lag):
    rng = np.random.default_rng(0)
    values = [rng.normal(50, 10, 40), rng.normal(-3, 0.5, 30)]
    panel = panel_of(values)
    series, origins = panel.windows(lookback=8, horizon=5, lag=lag)
    assert len(series) == (40 - 13 - lag + 1) + (30 - 13 - lag + 1)
    batch = make_batch(panel, series, origins, 8, 5, lag, scaling, period=4)
    truth = np.stack([values[s][o:o + 5] for s, o in zip(series, origins)])
    back = invert(batch.target, batch, lag).double().numpy()
    np.testing.assert_allclose(back, truth, rtol=1e-5, atol=1e-4)
    # the inputs are the lookback, scaled by statistics of the lookback alone
    first = values[series[0]][origins[0] - 8 - lag:origins[0]]
    x = first[lag:] - first[:-lag] if lag else first
    loc, scale = window_statistics(x[None], scaling, 4)
    np.testing.assert_allclose(batch.inputs[0, :, 0].numpy(), (x - loc[0]) / scale[0], rtol=1e-5,
                               atol=1e-6)


def test_scaling_statistics_by_hand():
    x = np.array([[1.0, -3.0, 2.0, 4.0]])
    loc, scale = window_statistics(x, "mean")
    assert loc[0, 0] == 0 and scale[0, 0] == pytest.approx(2.5)  # (1 + 3 + 2 + 4) / 4
    loc, scale = window_statistics(x, "standard")
    assert loc[0, 0] == pytest.approx(1.0) and scale[0, 0] == pytest.approx(np.sqrt(6.5))
    # mase, period 1: mean |diff| = (4 + 5 + 2) / 3
    assert window_statistics(x, "mase", 1)[1][0, 0] == pytest.approx(11 / 3)
    flat = np.full((1, 4), 7.0)
    assert window_statistics(flat, "standard")[1][0, 0] == 1.0  # no division by zero


def test_quantile_head_never_crosses_and_pinball_by_hand():
    raw = torch.randn(3, 4, 5) * 3
    q = heads._quantiles(raw)
    assert (q[..., 1:] > q[..., :-1]).all()
    bounds = heads.bounds("quantile", raw)
    assert torch.equal(bounds[80][0], q[..., 1]) and torch.equal(bounds[95][1], q[..., 4])
    # a target above every quantile: the pinball loss is sum_i tau_i (y - q_i)
    target = q[..., 4] + 1
    loss = heads.loss("quantile", raw, target)
    by_hand = sum(lv * (target - q[..., i]) for i, lv in enumerate(heads.QUANTILES)).mean()
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-6)
    # and below every quantile: sum_i (1 - tau_i) (q_i - y)
    target = q[..., 0] - 2
    by_hand = sum((1 - lv) * (q[..., i] - target) for i, lv in enumerate(heads.QUANTILES))
    assert heads.loss("quantile", raw, target).item() == pytest.approx(by_hand.mean().item(),
                                                                      rel=1e-6)


def test_gaussian_head_intervals_and_loss():
    raw = torch.tensor([[[2.0, 0.5]]])
    sigma = torch.nn.functional.softplus(torch.tensor(0.5)) + 1e-3
    lo, hi = heads.bounds("gaussian", raw)[95]
    assert hi.item() - 2.0 == pytest.approx(1.959964 * sigma.item(), rel=1e-5)
    nll = heads.loss("gaussian", raw, torch.tensor([[2.0]]))
    assert nll.item() == pytest.approx(np.log(sigma.item()) + 0.5 * np.log(2 * np.pi), rel=1e-5)
    t_lo, t_hi = heads.bounds("student-t", torch.tensor([[[2.0, 0.5, 0.0]]]))[95]
    assert t_hi.item() > hi.item()  # heavier tails: a wider interval at the same scale


def _holdout_mase(loaded, data, horizon):
    cut = api.truncate(data, [len(s.values) - horizon for s in data.series])
    fc = api.forecast(loaded, cut)[0]
    s = data.series[0]
    naive = forecast_baseline("naive", cut.series[0].values, horizon, data.period)
    return (M.mase(s.values[-horizon:], fc.mean, cut.series[0].values, data.period),
            M.mase(s.values[-horizon:], naive.mean, cut.series[0].values, data.period))


@pytest.mark.parametrize("decoder", ["direct", "recurrent"])
def test_decoders_beat_naive_on_air_passengers(air, decoder, tmp_path):
    config = ForecastConfig(horizon=12, hidden=32, decoder=decoder, teacher=0.5)
    train = api.default_train_config(steps=250, time=None, eval_every=50)
    loaded = api.fit(air, tmp_path, config, train)
    assert (tmp_path / "model.safetensors").is_file()
    model_mase, naive_mase = _holdout_mase(loaded, air, 12)
    assert model_mase < 0.75 * naive_mase, (model_mase, naive_mase)
    reloaded = api.load(tmp_path)
    a = api.forecast(loaded, air)[0]
    b = api.forecast(reloaded, air)[0]
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-6)
    assert set(a.intervals) == {80, 95}
    assert (a.intervals[95][0] <= a.intervals[80][0]).all()
    assert (a.intervals[80][0] <= a.mean).all() and (a.mean <= a.intervals[80][1]).all()


def test_forecaster_shapes_for_every_head():
    for head in heads.HEADS:
        c = ForecastConfig(horizon=6, lookback=10, period=1, hidden=8, head=head, skip=0)
        model = Forecaster(c)
        out = model(torch.randn(2, 10, 1), torch.zeros(2, 6, 0))
        assert out.shape == (2, 6, heads.num_params(head))


def _backtest(data, out):
    config = ForecastConfig(horizon=6, hidden=16, lookback=24)
    train = api.default_train_config(steps=40, time=None, eval_every=20)
    return api.backtest(data, out, config, train, windows=3, baselines=["snaive", "naive2"])[1]


def test_backtest_never_sees_past_its_origin(air, tmp_path):
    """Poison every value from an origin on: the forecasts made at or before it do not move."""
    clean = _backtest(air, tmp_path / "clean")
    origins = sorted({w.origin for w in clean.windows})
    assert origins == [144 - 18, 144 - 12, 144 - 6]
    for k, origin in enumerate(origins):
        values = air.series[0].values.copy()
        values[origin:] = 1e6
        poisoned = dataclasses.replace(air, series=[dataclasses.replace(air.series[0],
                                                                        values=values)])
        dirty = _backtest(poisoned, tmp_path / f"dirty{k}")
        for a, b in zip(clean.windows, dirty.windows):
            if a.origin > origin:
                # a later forecast reads poisoned history: it must change (the test can fail)
                assert not np.array_equal(a.forecasts["rnnkit"].mean, b.forecasts["rnnkit"].mean)
                continue
            # made at or before the poisoned point, and by a model trained before the first
            # origin: identical to the last bit
            for name in ("rnnkit", "snaive", "naive2"):
                np.testing.assert_array_equal(a.forecasts[name].mean, b.forecasts[name].mean)
            for level in (80, 95):
                np.testing.assert_array_equal(a.forecasts["rnnkit"].intervals[level][1],
                                              b.forecasts["rnnkit"].intervals[level][1])
    assert clean.summary["rnnkit"]["smape"] > 0
    assert "owa" in clean.summary["snaive"]


def _long_file_with_covariates(path: Path, air) -> None:
    """Two series (the first and last six years of Air Passengers) in long form, with a known
    covariate (1 in December) and a past one (the value a year before, 0 when unknown)."""
    s = air.series[0]
    rows = ["store,date,sales,december,last_year"]
    for name, part in (("a", slice(0, 72)), ("b", slice(72, 144))):
        values, times = s.values[part], s.time[part]
        for k, (t, v) in enumerate(zip(times, values)):
            last = values[k - 12] if k >= 12 else 0.0
            rows.append(f"{name},{t.date()},{v},{int(t.month == 12)},{last}")
    path.write_text("\n".join(rows) + "\n")


def test_known_and_past_covariates_train_and_need_their_future(air, tmp_path):
    from rnnkit.cli.main import main
    from rnnkit.errors import ConfigError, DataError

    data_path = tmp_path / "stores.csv"
    _long_file_with_covariates(data_path, air)
    data = read_series(data_path, id_col="store", known=["december"], past=["last_year"])
    assert [s.id for s in data.series] == ["a", "b"] and data.period == 12
    config = ForecastConfig(horizon=6, hidden=16, lookback=24)
    loaded = api.fit(data, tmp_path / "m", config, api.default_train_config(steps=20, time=None))
    c = loaded.config
    assert c.known_names == ["december"] and c.past_names == ["last_year"]
    assert len(c.calendar_names) > 0 and c.num_inputs == 1 + len(c.calendar_names) + 1 + 1
    with pytest.raises(ConfigError, match="december"):
        api.forecast(loaded, data)
    future = [np.array([[0.0], [0.0], [0.0], [0.0], [0.0], [1.0]])] * 2
    out = api.forecast(loaded, data, future)
    assert len(out) == 2 and out[0].mean.shape == (6,)
    other = api.forecast(loaded, data, [f * 0 for f in future])
    assert not np.allclose(out[0].mean, other[0].mean)  # the known future is read
    # the CLI reads the future from a file (time, id and the known columns)
    future_path = tmp_path / "future.csv"
    args = ["forecast", "predict", str(tmp_path / "m"), "--data", str(data_path), "--id-col",
            "store", "--known", "december", "--past", "last_year", "--future", str(future_path)]
    rows = ["store,date,december"] + [f"b,1961-{m:02d}-01,0" for m in range(1, 7)]
    rows += [f"a,1955-{m:02d}-01,0" for m in range(7, 13)]  # a ends in 1954-12, not 1955-06
    future_path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="must start at 1955-01-01"):
        api.read_future(str(future_path), data, loaded, id_col="store")
    assert main(args) == 2
    rows = ["store,date,december"] + [f"b,1961-{m:02d}-01,0" for m in range(1, 7)]
    rows += [f"a,1955-{m:02d}-01,0" for m in range(1, 7)]
    future_path.write_text("\n".join(rows) + "\n")
    assert main(args + ["--json"]) == 0
