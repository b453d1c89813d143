"""A progress bar for the training loop's callback (used by the CLI; the library never prints)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class ProgressBar:
    """tqdm over steps (or seconds, for a time budget), with loss, tokens/s and validation.

    The bar appears at the first step: a run that fails while reading its data leaves stderr
    with nothing but the one-line error. ``file`` defaults to the ``sys.stderr`` of that moment.
    """

    def __init__(
        self,
        steps: int | None,
        seconds: float | None,
        start_step: int = 0,
        metric: str = "loss",
        file=None,
    ) -> None:
        self.by_time = steps is None
        self.total = round(seconds) if self.by_time else steps
        self.start_step = start_step
        self.file = file
        self.bar: tqdm | None = None
        self.metric = metric
        self.last_tokens = None
        self.last_time = None
        self.valid = ""
        self.shown_first = False

    def _open(self) -> tqdm:
        if self.bar is None:
            file = self.file if self.file is not None else sys.stderr
            terminal = getattr(file, "isatty", lambda: False)()
            self.bar = tqdm(
                total=self.total,
                unit="s" if self.by_time else "step",
                file=file,
                dynamic_ncols=True,
                mininterval=0.1 if terminal else 30.0,  # a log file gets a line every 30 s
                initial=0 if self.by_time else self.start_step,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}",
            )
        return self.bar

    def __call__(self, event: str, info: dict) -> None:
        if event == "step":
            bar = self._open()
            rate = ""
            if self.last_time is not None and info["time"] > self.last_time:
                speed = (info["tokens"] - self.last_tokens) / (info["time"] - self.last_time)
                rate = f"{speed:,.0f} tok/s"
            self.last_tokens, self.last_time = info["tokens"], info["time"]
            bar.set_postfix_str(
                f"step {info['step']} loss {info['train_loss']:.3f} {rate}{self.valid}"
                + (f" teacher {info['teacher']:.2f}" if info.get("teacher", 1.0) < 1.0 else ""),
                refresh=False,  # drawn by update(), at tqdm's pace
            )
            target = round(info["time"]) if self.by_time else info["step"]
            bar.update(max(0, min(target, bar.total) - bar.n))
            if not self.shown_first:  # the first step is always drawn: training has started
                bar.refresh()
                self.shown_first = True
        elif event == "eval":
            key = f"valid_{self.metric}"
            if key in info:
                self.valid = f" | valid {self.metric} {info[key]:.3f}"
        elif event == "end" and self.bar is not None:
            if self.by_time:
                self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
