"""kill -9 at random moments of a real training run, then --resume, again and again.

A small character LSTM trains on a text (Alice in Wonderland by default) with a checkpoint
every few steps; the run is killed with SIGKILL at a random moment (start-up, a step, an
evaluation, a checkpoint write), ``--kills`` times in a row, each time followed by a check that
the directory still opens (``rnnkit.load``, once it holds weights) and by ``--resume`` (or a
fresh start when the kill came before anything was written). The last resume runs to the end,
and its weights (best and checkpoint) are compared with an uninterrupted run of the same
command: they must be bit-identical.

    python bench/kill_resume.py                 # 20 kills on alice
    python bench/kill_resume.py --kills 5 --data my.txt
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "rnnkit"
RNNKIT = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "rnnkit.cli.main"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread: the same sums in every process


def command(data: str, out: Path, steps: int) -> list[str]:
    return RNNKIT + ["lm", "train", "--data", data, "--out", str(out), "--steps", str(steps),
                     "--checkpoint-every", "5", "--eval-every", "10", "--log-every", "5",
                     "--hidden", "64", "--embedding", "16", "--batch", "8", "--bptt", "32",
                     "--no-baseline", "--seed", "0"]


def same_tensors(a: Path, b: Path) -> bool:
    from rnnkit.train import checkpoint as ckpt

    x, y = ckpt.read_tensors(a), ckpt.read_tensors(b)
    return x.keys() == y.keys() and all(bool((x[k] == y[k]).all()) for k in x)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="alice", help="a text dataset name or file")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs in a row")
    parser.add_argument("--steps", type=int, default=1000, help="the run's length in steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    args = parser.parse_args(argv)

    import rnnkit

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kill-resume-"))
    reference, killed = work / "uninterrupted", work / "killed"
    started = time.perf_counter()
    subprocess.run(command(args.data, reference, args.steps), env=ENV, check=True,
                   capture_output=True)
    whole = time.perf_counter() - started
    print(f"uninterrupted run: {args.steps} steps in {whole:.1f} s (start-up included)")
    kills, resumed, loaded, states = 0, 0, 0, []
    while kills < args.kills:
        again = (killed / "config.json").is_file()
        process = subprocess.Popen(command(args.data, killed, args.steps)
                                   + (["--resume"] if again else []),
                                   env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        resumed += again
        time.sleep(rng.uniform(0.2, whole))  # start-up, steps, evaluations, checkpoints
        if process.poll() is not None:  # it finished first: start over for another kill
            _, err = process.communicate()
            if process.returncode != 0:
                raise SystemExit(f"the run failed (exit {process.returncode}): {err.decode()}")
            subprocess.run(["rm", "-rf", str(killed)], check=True)
            continue
        process.kill()
        process.wait()
        kills += 1
        step = "-"
        if (killed / "model.safetensors").is_file():
            rnnkit.load(killed)  # raises if the directory no longer opens
            loaded += 1
        if (killed / "checkpoint" / "trainer.json").is_file():
            import json

            step = json.loads((killed / "checkpoint" / "trainer.json").read_text())["state"]["step"]
        states.append(step)
        print(f"kill {kills}: checkpoint at step {step}")
    final = subprocess.run(command(args.data, killed, args.steps)
                           + (["--resume"] if (killed / "config.json").is_file() else []),
                           env=ENV, capture_output=True, text=True)
    if final.returncode != 0:
        raise SystemExit(f"the last resume failed (exit {final.returncode}): {final.stderr}")
    identical = {name: same_tensors(reference / name, killed / name)
                 for name in ("model.safetensors", "checkpoint/model.safetensors")}
    result = {"kills": kills, "resumes": resumed, "loads": loaded,
              "checkpoint_steps": states, "identical": identical, "folder": str(work)}
    print(f"{kills} kills, {resumed} resumes, the directory opened {loaded} times; final "
          f"weights bit-identical to the uninterrupted run: {identical}")
    return result


if __name__ == "__main__":
    main()
