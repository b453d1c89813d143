"""The forecaster: an rnnkit encoder over the lookback, then one of two decoders.

- ``direct``: the encoder's last output and the horizon's known covariates go through a
  two-layer MLP that emits every horizon step's distribution parameters at once
  (MQ-RNN's direct strategy: no error feeds back, all steps trained jointly).
- ``recurrent``: a second stack starts from the encoder's final states and walks the horizon one
  step at a time, reading the previous value and the step's known covariates. In training the
  previous value is the truth (teacher forcing), or with probability ``1 - teacher`` the model's
  own forecast (scheduled sampling); at inference always its own forecast.

Shapes: ``inputs (B, L, F)``, ``future (B, H, K)``, output parameters ``(B, H, P)`` in the
scaled space of each window (see :mod:`rnnkit.tasks.forecast_data`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import torch
from torch import Tensor, nn

from rnnkit.cells import CELL_KINDS
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack
from rnnkit.tasks import forecast_heads as heads
from rnnkit.tasks.forecast_data import check_transform
from rnnkit.train.loop import TrainConfig

DECODERS = ("direct", "recurrent")


@dataclass
class ForecastConfig:
    """Everything needed to rebuild a forecaster and its data transform (``config.json``)."""

    horizon: int = 12
    lookback: int = 0  # 0: chosen from the horizon and period (see ``default_lookback``)
    period: int = 0  # 0: the data's seasonal period
    freq: str | None = None
    cell: str = "lstm"
    layers: int = 1
    hidden: int = 64
    dropout: float = 0.0
    decoder: str = "direct"
    head: str = "quantile"
    scaling: str = "mean"
    difference: str = "none"
    skip: int = -1  # direct decoder: recent lookback values also fed to the head; -1: auto
    base: str = "none"  # direct decoder: "seasonal" adds the last season (seasonal naive)
    weighting: str = "none"  # "owa": weight windows by their error's share of OWA
    teacher: float = 1.0  # recurrent decoder: probability of feeding the truth at the end
    batch: int = 64
    calendar: bool = True  # calendar features from the timestamps, when there are any
    known_names: list[str] = field(default_factory=list)
    past_names: list[str] = field(default_factory=list)
    calendar_names: list[str] = field(default_factory=list)
    known_mean: list[float] = field(default_factory=list)
    known_std: list[float] = field(default_factory=list)
    past_mean: list[float] = field(default_factory=list)
    past_std: list[float] = field(default_factory=list)

    def check(self) -> None:
        if self.horizon <= 0:
            raise ConfigError(f"--horizon must be positive, got {self.horizon}")
        if self.lookback < 0:
            raise ConfigError(f"--lookback must be positive, got {self.lookback}")
        if self.period <= 0:
            raise ConfigError(f"--period must be positive, got {self.period}")
        if self.cell not in CELL_KINDS:
            raise ConfigError(f"--cell must be one of {', '.join(CELL_KINDS)}, got {self.cell!r}")
        for name in ("layers", "hidden", "batch"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.decoder not in DECODERS:
            raise ConfigError(f"--decoder must be direct or recurrent, got {self.decoder!r}")
        if self.skip > self.lookback:
            raise ConfigError(f"--skip ({self.skip}) cannot exceed --lookback ({self.lookback})")
        if self.weighting not in ("none", "owa"):
            raise ConfigError(f"--weighting must be none or owa, got {self.weighting!r}")
        if self.base not in ("none", "seasonal"):
            raise ConfigError(f"--base must be none or seasonal, got {self.base!r}")
        if self.base == "seasonal" and self.period <= 1:
            raise ConfigError("--base seasonal needs a seasonal period > 1 (--period)")
        if not 0.0 <= self.teacher <= 1.0:
            raise ConfigError(f"--teacher must be in [0, 1], got {self.teacher}")
        heads.check_head(self.head)
        check_transform(self.scaling, self.difference, self.period)

    @property
    def num_known(self) -> int:
        return len(self.calendar_names) + len(self.known_names)

    @property
    def num_inputs(self) -> int:
        return 1 + self.num_known + len(self.past_names)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ForecastConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def default_skip(lookback: int, period: int, horizon: int) -> int:
    """The last season (or horizon, if longer) of the lookback."""
    return min(lookback, max(period, horizon))


def default_lookback(horizon: int, period: int) -> int:
    """Two horizons or three seasons, whichever is longer, and at least 8 steps."""
    return max(8, 2 * horizon, 3 * period if period > 1 else 0)


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
        H, head = self.config.horizon, self.config.head
        if target is not None and teacher >= 1.0:
            # teacher forcing all the way: the whole horizon is one sequence (fused kernels)
            previous = torch.cat([last[:, None], target[:, :-1]], dim=1)
            x = torch.cat([previous[..., None], future], dim=-1)
            out, _ = self.decoder(x, states)
            return self.out(self.drop(out))
        params, value = [], last
        for k in range(H):
            x = torch.cat([value[:, None], future[:, k]], dim=-1)[:, None]
            out, states = self.decoder(x, states)
            p = self.out(self.drop(out[:, 0]))
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
