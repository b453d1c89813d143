"""A progress bar for the training loop's callback (used by the CLI; the library never prints)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class ProgressBar:
    """tqdm over steps (or seconds, for a time budget), with loss, tokens/s and validation."""

    def __init__(
        self,
        steps: int | None,
        seconds: float | None,
        start_step: int = 0,
        metric: str = "loss",
        file=sys.stderr,
    ) -> None:
        self.by_time = steps is None
        total = round(seconds) if self.by_time else steps
        unit = "s" if self.by_time else "step"
        self.bar = tqdm(
            total=total,
            unit=unit,
            file=file,
            dynamic_ncols=True,
            initial=0 if self.by_time else start_step,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}",
        )
        self.metric = metric
        self.last_tokens = None
        self.last_time = None
        self.valid = ""

    def __call__(self, event: str, info: dict) -> None:
        if event == "step":
            rate = ""
            if self.last_time is not None and info["time"] > self.last_time:
                speed = (info["tokens"] - self.last_tokens) / (info["time"] - self.last_time)
                rate = f"{speed:,.0f} tok/s"
            self.last_tokens, self.last_time = info["tokens"], info["time"]
            self.bar.set_postfix_str(
                f"step {info['step']} loss {info['train_loss']:.3f} {rate}{self.valid}"
            )
            target = round(info["time"]) if self.by_time else info["step"]
            self.bar.update(max(0, min(target, self.bar.total) - self.bar.n))
        elif event == "eval":
            key = f"valid_{self.metric}"
            if key in info:
                self.valid = f" | valid {self.metric} {info[key]:.3f}"
        elif event == "end":
            if self.by_time:
                self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
