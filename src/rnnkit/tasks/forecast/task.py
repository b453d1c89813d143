"""Training a forecaster on many series: panels of series, windows, the loss, validation.

One global model learns from every window of every series. With validation on, the last
``horizon`` values of each series are held out: training windows end before them and the
validation forecast reads the lookback just before them (the M4 protocol in miniature).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from rnnkit.data.series import SeriesSet, calendar_features, future_index
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecast import heads
from rnnkit.tasks.forecast.data import Batch, Panel, difference_lag, invert, make_batch
from rnnkit.tasks.forecast.model import ForecastConfig, Forecaster


def minimum_length(config: ForecastConfig, validation: bool = False) -> int:
    """Shortest series that gives one training window (and a validation window)."""
    lag = difference_lag(config.difference, config.period)
    return config.lookback + lag + config.horizon * (2 if validation else 1)


def covariates(data: SeriesSet, config: ForecastConfig, extend: int = 0,
               future_known: list[np.ndarray] | None = None
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Known (calendar + standardised user columns) and past covariates of every series, each
    ``(T + extend, K)`` / ``(T + extend, P)``; the ``extend`` future rows of the known ones come
    from the calendar and ``future_known`` (past covariates are zeros there, never read)."""
    known_out, past_out = [], []
    k_mean, k_std = np.asarray(config.known_mean), np.asarray(config.known_std)
    p_mean, p_std = np.asarray(config.past_mean), np.asarray(config.past_std)
    for i, s in enumerate(data.series):
        T = len(s.values)
        parts = []
        if config.calendar_names:
            if s.time is None:
                raise DataError(f"series {s.id} has no timestamps but the model was trained "
                                "with calendar features; give the time column (time_col)")
            time = s.time
            if extend:
                time = time.append(future_index(s.time, config.freq, extend))
            cal, _ = calendar_features(time, config.freq)
            parts.append(cal)
        if config.known_names:
            user = s.known
            if extend:
                if future_known is None or future_known[i].shape != (extend, len(k_mean)):
                    raise ConfigError(
                        f"the model reads known covariates ({', '.join(config.known_names)}): "
                        f"give their {extend} future values (future_known)")
                user = np.concatenate([user, future_known[i]])
            parts.append((user - k_mean) / k_std)
        known_out.append(np.concatenate(parts, axis=1) if parts else np.zeros((T + extend, 0)))
        past = (s.past - p_mean) / p_std if config.past_names else np.zeros((T, 0))
        past_out.append(np.concatenate([past, np.zeros((extend, past.shape[1]))]))
    return known_out, past_out


def build_panel(data: SeriesSet, config: ForecastConfig, extend: int = 0,
                future_known: list[np.ndarray] | None = None) -> Panel:
    known, past = covariates(data, config, extend, future_known)
    values = [np.concatenate([s.values, np.full(extend, np.nan)]) for s in data.series]
    return Panel.build(values, known, past)


class ForecastTask:
    """The :class:`~rnnkit.train.loop.TrainTask` of forecasting."""

    def __init__(self, model: Forecaster, data: SeriesSet, validation: bool = True,
                 seed: int = 0) -> None:
        self.model, self.config, self.seed = model, model.config, seed
        c = self.config
        self.lag = difference_lag(c.difference, c.period)
        self.panel = build_panel(data, c)
        lengths = self.panel.lengths
        need = minimum_length(c, validation)
        if lengths.max() < need:
            raise DataError(
                f"the longest series has {lengths.max()} values; lookback {c.lookback} + "
                f"horizon {c.horizon}" + (" + a validation horizon" if validation else "")
                + f" needs at least {need}; use a shorter lookback or horizon"
                + (" or no validation" if validation else ""))
        end = lengths - c.horizon if validation else None
        self.train_series, self.train_origins = self.panel.windows(c.lookback, c.horizon,
                                                                   self.lag, end)
        self.valid_series = self.valid_origins = None
        if validation:
            ok = np.flatnonzero(lengths >= need)
            self.valid_series, self.valid_origins = ok, lengths[ok] - c.horizon
        self.progress = lambda: 0.0  # the Trainer's progress, for scheduled sampling

    @property
    def num_windows(self) -> int:
        return len(self.train_origins)

    def batches(self, epoch: int, start: int) -> Iterator[Batch]:
        order = np.random.default_rng(self.seed * 100_003 + epoch).permutation(self.num_windows)
        B = self.config.batch
        for k in range(start * B, len(order) - B + 1 if len(order) >= B else len(order), B):
            pick = order[k:k + B]
            yield self._batch(self.train_series[pick], self.train_origins[pick])

    def _batch(self, series: np.ndarray, origins: np.ndarray) -> Batch:
        c = self.config
        return make_batch(self.panel, series, origins, c.lookback, c.horizon, self.lag, c.scaling,
                          c.period, c.weighting)

    def initial_carry(self):
        return None

    def teacher(self) -> float:
        """Scheduled sampling: the truth's share falls linearly from 1 to ``teacher``."""
        return 1.0 - (1.0 - self.config.teacher) * min(1.0, self.progress())

    def train_loss(self, batch: Batch, carry):
        raw = self.model(batch.inputs, batch.future, batch.target, teacher=self.teacher())
        loss = heads.loss(self.config.head, raw, batch.target, batch.weight)
        return loss, None, int(batch.target.numel())

    def evaluate(self) -> dict[str, float]:
        """Loss, MAE and sMAPE of the held-out windows; without validation, of a fixed sample
        of 1,024 training windows (so that the best-weights logic still has a number)."""
        c = self.config
        series, origins = self.valid_series, self.valid_origins
        if series is None or len(series) == 0:
            pick = np.random.default_rng(self.seed).permutation(self.num_windows)[:1024]
            series, origins = self.train_series[pick], self.train_origins[pick]
        losses, abs_err, smape = [], [], []
        for k in range(0, len(series), 512):
            batch = self._batch(series[k:k + 512], origins[k:k + 512])
            raw = self.model(batch.inputs, batch.future)
            losses.append(heads.loss(c.head, raw, batch.target).item() * len(batch.target))
            forecast = invert(heads.point(c.head, raw), batch, self.lag)
            actual = invert(batch.target, batch, self.lag)
            abs_err.append((forecast - actual).abs().mean(1))
            denominator = (forecast.abs() + actual.abs()).clamp_min(1e-12)
            smape.append((200 * (forecast - actual).abs() / denominator).mean(1))
        n = len(series)
        return {"loss": sum(losses) / n, "mae": torch.cat(abs_err).mean().item(),
                "smape": torch.cat(smape).mean().item()}
