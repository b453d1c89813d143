"""The forecaster: an rnnkit encoder over the lookback, then one of two decoders.

- ``direct``: the encoder's last output and the horizon's known covariates go through a
  two-layer MLP that emits every horizon step's distribution parameters at once
  (MQ-RNN's direct strategy: no error feeds back, all steps trained jointly).
- ``recurrent``: a second stack starts from the encoder's final states and walks the horizon one
  step at a time (:meth:`~rnnkit.layers.Stack.step`), reading the previous value and the step's
  known covariates. In training the previous value is the truth (teacher forcing), or with
  probability ``1 - teacher`` the model's own forecast (scheduled sampling); at inference
  always its own forecast.

Shapes: ``inputs (B, L, F)``, ``future (B, H, K)``, output parameters ``(B, H, P)`` in the
scaled space of each window (see :mod:`rnnkit.tasks.forecast.data`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.data.series import SeriesSet, calendar_features
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack
from rnnkit.tasks.forecast import heads
from rnnkit.tasks.forecast.data import (
    DIFFERENCES,
    SCALINGS,
    check_transform,
    standardise_columns,
)
from rnnkit.train.loop import TrainConfig

DECODERS = ("direct", "recurrent")


@dataclass
class ForecastConfig(Config):
    """Everything needed to rebuild a forecaster and its data transform (``config.json``)."""

    horizon: int = param(12, "steps to forecast")
    lookback: int = param(0, "steps read (0: max(8, 2 horizons, 3 periods))")
    period: int = param(0, "seasonal period (0: the data's)")
    freq: str | None = param(None, "the data's frequency", cli=False)
    cell: str = param("lstm", "the recurrent cell", choices=cell_names)
    layers: int = param(1, "stacked recurrent layers")
    hidden: int = param(64, "hidden size of every layer")
    dropout: float = param(0.0, "dropout between layers and before the output")
    decoder: str = param("direct", "all steps at once (direct) or one after another "
                                   "(recurrent)", choices=DECODERS)
    head: str = param("quantile", "output distribution", choices=heads.HEADS)
    scaling: str = param("mean", "per-window scaling", choices=SCALINGS)
    difference: str = param("none", "per-window differencing", choices=DIFFERENCES)
    skip: int = param(-1, "direct decoder: recent lookback values also fed to the head "
                          "(-1: the last season or horizon)")
    base: str = param("none", "direct decoder: forecast the change from seasonal naive "
                              "(seasonal)", choices=("none", "seasonal"))
    weighting: str = param("none", "loss weights: none, or each window's share of OWA (owa)",
                           choices=("none", "owa"))
    teacher: float = param(1.0, "recurrent decoder: final teacher-forcing probability "
                                "(scheduled sampling from 1 down to this)")
    batch: int = param(64, "windows per step")
    calendar: bool = param(True, "calendar features from the timestamps, when there are any")
    known_names: list[str] = param(default_factory=list, cli=False)
    past_names: list[str] = param(default_factory=list, cli=False)
    calendar_names: list[str] = param(default_factory=list, cli=False)
    known_mean: list[float] = param(default_factory=list, cli=False)
    known_std: list[float] = param(default_factory=list, cli=False)
    past_mean: list[float] = param(default_factory=list, cli=False)
    past_std: list[float] = param(default_factory=list, cli=False)

    def check(self) -> None:
        super().check()
        self.require_positive("horizon")
        self.require_at_least("lookback", 0)
        self.require_positive("period", "layers", "hidden", "batch")
        self.require_fraction("dropout")
        if self.skip > self.lookback:
            raise ConfigError.bad("skip", f"({self.skip}) cannot exceed lookback "
                                          f"({self.lookback})")
        if self.base == "seasonal" and self.period <= 1:
            raise ConfigError.bad("base", "seasonal needs a seasonal period > 1 (period)")
        self.require_fraction("teacher", closed=True)
        check_transform(self.scaling, self.difference, self.period)

    @property
    def num_known(self) -> int:
        return len(self.calendar_names) + len(self.known_names)

    @property
    def num_inputs(self) -> int:
        return 1 + self.num_known + len(self.past_names)


def default_skip(lookback: int, period: int, horizon: int) -> int:
    """The last season (or horizon, if longer) of the lookback."""
    return min(lookback, max(period, horizon))


def default_lookback(horizon: int, period: int) -> int:
    """Two horizons or three seasons, whichever is longer, and at least 8 steps."""
    return max(8, 2 * horizon, 3 * period if period > 1 else 0)


def configure(data: SeriesSet, config: ForecastConfig | None) -> ForecastConfig:
    """A copy of ``config`` with what comes from the data filled in: period, frequency,
    lookback, skip, covariate names and the training statistics that standardise user
    covariates."""
    c = dataclasses.replace(config) if config is not None else ForecastConfig()
    if not c.period:
        c.period = max(1, int(data.period or 1))
    c.freq = data.freq
    if not c.lookback:
        c.lookback = default_lookback(c.horizon, c.period)
    if c.skip < 0:
        c.skip = default_skip(c.lookback, c.period, c.horizon) if c.decoder == "direct" else 0
    c.known_names, c.past_names = list(data.known_names), list(data.past_names)
    first = data.series[0]
    c.calendar_names = []
    if c.calendar and first.time is not None:
        _, c.calendar_names = calendar_features(first.time[:2], data.freq)
    k_mean, k_std = standardise_columns([s.known for s in data.series])
    p_mean, p_std = standardise_columns([s.past for s in data.series])
    c.known_mean, c.known_std = k_mean.tolist(), k_std.tolist()
    c.past_mean, c.past_std = p_mean.tolist(), p_std.tolist()
    c.check()
    return c


class Forecaster(nn.Module):
    """``(inputs, future, target=None) -> params (B, H, P)``; ``target`` is read only by the
    recurrent decoder in training (teacher forcing)."""

    def __init__(self, config: ForecastConfig) -> None:
        super().__init__()
        config.check()
        self.config = config
        c = config
        self.P = heads.num_params(c.head)
        self.encoder = build_stack(c.cell, c.num_inputs, c.hidden, c.layers, dropout=c.dropout)
        self.drop = nn.Dropout(c.dropout)
        if c.decoder == "direct":
            width = c.hidden + c.horizon * c.num_known + max(0, c.skip)
            self.mlp = nn.Sequential(nn.Linear(width, c.hidden * 2), nn.ReLU(),
                                     nn.Linear(c.hidden * 2, c.horizon * self.P))
        else:
            self.decoder = build_stack(c.cell, 1 + c.num_known, c.hidden, c.layers,
                                       dropout=c.dropout)
            self.out = nn.Linear(c.hidden, self.P)

    def forward(self, inputs: Tensor, future: Tensor, target: Tensor | None = None,
                teacher: float = 1.0) -> Tensor:
        encoded, states = self.encoder(inputs)
        if self.config.decoder == "direct":
            last = self.drop(encoded[:, -1])
            parts = [last, future.flatten(1)]
            if self.config.skip > 0:
                parts.append(inputs[:, -self.config.skip:, 0])
            features = torch.cat(parts, dim=1)
            params = self.mlp(features).view(inputs.shape[0], self.config.horizon, self.P)
            if self.config.base == "seasonal":
                params = heads.shift(self.config.head, params, self._seasonal_naive(inputs))
            return params
        return self._recurrent(inputs[:, -1, 0], states, future, target, teacher)

    def _seasonal_naive(self, inputs: Tensor) -> Tensor:
        """(B, H): the last season of the scaled lookback, repeated over the horizon."""
        m, H = self.config.period, self.config.horizon
        last = inputs[:, -m:, 0]
        return last.repeat(1, -(-H // m))[:, :H]

    def _recurrent(self, last: Tensor, states, future: Tensor, target: Tensor | None,
                   teacher: float) -> Tensor:
        """``last (B,)`` scaled value before the origin, ``states`` the encoder's final ones
        -> ``(B, H, P)``."""
        H, head = self.config.horizon, self.config.head
        if target is not None and teacher >= 1.0:
            # teacher forcing all the way: the whole horizon is one sequence (fused kernels)
            previous = torch.cat([last[:, None], target[:, :-1]], dim=1)
            x = torch.cat([previous[..., None], future], dim=-1)
            out, _ = self.decoder(x, states)
            return self.out(self.drop(out))
        params, value = [], last
        for k in range(H):
            x = torch.cat([value[:, None], future[:, k]], dim=-1)  # (B, 1 + K)
            out, states = self.decoder.step(x, states)  # (B, hidden)
            p = self.out(self.drop(out))  # (B, P)
            params.append(p)
            value = heads.point(head, p[:, None])[:, 0].detach()
            if target is not None and teacher > 0.0:
                use_truth = torch.rand_like(value) < teacher
                value = torch.where(use_truth, target[:, k], value)
        return torch.stack(params, dim=1)


def default_train_config(**overrides) -> TrainConfig:
    """Forecasting defaults: AdamW 3e-3 with cosine decay, validation every 200 steps."""
    options = {"time": 120.0, "lr": 3e-3, "eval_every": 200, "warmup": 20, **overrides}
    return TrainConfig(**options)
