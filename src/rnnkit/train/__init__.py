"""Training: the shared loop, schedules, checkpoints."""

from rnnkit.train.loop import Diverged, TrainConfig, Trainer, TrainState

__all__ = ["Diverged", "TrainConfig", "TrainState", "Trainer"]
