"""``rnnkit experiment list|run``: the textbook claims about recurrent networks, measured."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

from rnnkit.cli.common import positive_int, print_json
from rnnkit.errors import RnnkitError


def register(groups) -> None:
    group = groups.add_parser("experiment",
                              help="measure the textbook claims about RNNs: numbers, figures, "
                                   "verdicts")
    verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)

    listing = verbs.add_parser("list", help="the experiments, their claims and run times")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(func=run_list)

    run = verbs.add_parser("run", help="run one experiment, or all: DIR/NAME/report.md, "
                                       "metrics.json and figures; DIR/index.html")
    run.add_argument("name", metavar="NAME|all", help="an experiment (rnnkit experiment list) "
                                                      "or all")
    run.add_argument("--out", metavar="DIR", default="runs/experiments",
                     help="where the results go (default runs/experiments)")
    run.add_argument("--quick", action="store_true",
                     help="the smoke-sized form: seconds each, one seed (verdicts are weak)")
    run.add_argument("--seeds", type=positive_int, default=3,
                     help="seeds where a difference is small (default 3)")
    run.add_argument("--threads", type=positive_int, default=1,
                     help="torch threads (default 1: the experiments' models are small, and "
                          "more threads than free cores slow them many times over)")
    run.add_argument("--json", action="store_true", help="print the records as JSON")
    run.set_defaults(func=run_run)


def run_list(args) -> int:
    from rnnkit import experiments

    found = experiments.available()
    if args.json:
        print_json([{"name": x.name, "number": x.number, "title": x.title, "claim": x.claim,
                     "minutes": x.minutes, "quick_seconds": x.quick_seconds, "data": x.data}
                    for x in found])
        return 0
    width = max(len(x.name) for x in found)
    for x in found:
        print(f"{x.number:>2}. {x.name:<{width}}  {x.title}  (~{x.minutes:g} min; quick "
              f"~{x.quick_seconds:.0f} s{'; ' + x.data if x.data else ''})")
    total = sum(x.minutes for x in found)
    quick = sum(x.quick_seconds for x in found)
    print(f"\nall: ~{total:.0f} min on 2 cores (--quick ~{quick / 60:.1f} min); "
          "rnnkit experiment run NAME|all [--quick] [--out DIR]")
    return 0


class Bars:
    """The experiments' progress events as tqdm bars on stderr."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def __call__(self, event: str, info: dict) -> None:
        if event == "task":
            self.close()
            terminal = sys.stderr.isatty()
            self.bar = tqdm(total=info.get("total"), desc=f"  {info['name']}", file=sys.stderr,
                            dynamic_ncols=True, leave=False, mininterval=0.1 if terminal else 30)
        elif event == "advance" and self.bar is not None:
            if info.get("status"):
                self.bar.set_postfix_str(info["status"], refresh=False)
            if info.get("n"):
                self.bar.update(info["n"])
        elif event == "done":
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_run(args) -> int:
    from rnnkit import experiments
    from rnnkit.experiments.runner import check_out, write_index

    chosen = experiments.NAMES if args.name == "all" else (args.name,)
    found = [experiments.get(name) for name in chosen]  # an unknown name fails first
    check_out(args.out)
    import torch

    torch.set_num_threads(args.threads)
    records, failed = [], []
    bars = Bars()
    started = time.perf_counter()
    for i, experiment in enumerate(found, 1):
        count = f"[{i}/{len(found)}] " if len(found) > 1 else ""
        print(f"{count}{experiment.number}. {experiment.name}: {experiment.title}",
              file=sys.stderr)
        try:
            record = experiments.run(experiment.name, args.out, quick=args.quick,
                                     seeds=args.seeds, progress=bars)
        except RnnkitError as problem:
            bars.close()
            if len(found) == 1:
                raise
            print(f"  could not run: {problem}", file=sys.stderr)
            failed.append({"experiment": experiment.name, "number": experiment.number,
                           "title": experiment.title, "claim": experiment.claim,
                           "error": f"could not run: {problem}"})
            continue
        finally:
            bars.close()
        records.append(record)
        if not args.json:
            verdict = record["verdict"]
            print(f"  {verdict['word'].upper()}: {verdict['text']}")
            print(f"  {args.out}/{experiment.name}/report.md ({record['seconds']:.0f} s)")
    index = write_index(args.out, failed)
    if args.json:
        print_json(records if args.name == "all" else records[0])
    else:
        held = sum(1 for r in records if r["verdict"]["held"] is True)
        if len(found) > 1:
            print(f"\n{held} of {len(found)} claims held, {len(failed)} could not run, in "
                  f"{(time.perf_counter() - started) / 60:.1f} min; {index}")
        else:
            print(f"  {index}")
    if failed:
        print(f"rnnkit: error: {len(failed)} experiment(s) could not run: "
              f"{', '.join(f['experiment'] for f in failed)} (see above)", file=sys.stderr)
        return 2
    return 0
