"""``rnnkit lm train|generate|predict|evaluate|baseline``: language models."""

from __future__ import annotations

import sys
from pathlib import Path

from rnnkit.cli.common import print_json
from rnnkit.cli.options import (
    add_config,
    add_force,
    add_precision,
    add_training,
    config_from_args,
    train_config_from_args,
)
from rnnkit.data.streams import parse_fractions
from rnnkit.tasks import lm as api
from rnnkit.tasks.lm import LMConfig, default_train_config
from rnnkit.train.progress import ProgressBar


def register(groups) -> None:
    lm = groups.add_parser("lm", help="character- and word-level language models")
    verbs = lm.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train a language model into a directory")
    train.add_argument("--data", help="dataset name (rnnkit data list) or text file")
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    train.add_argument("--encoding", default="utf-8", help="encoding of a text file")
    train.add_argument("--split", default="0.9,0.05,0.05", help="train,valid,test fractions")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    add_force(train)
    train.add_argument(
        "--window", action="store_true", help="full BPTT on random windows instead of carried state"
    )
    add_config(train.add_argument_group("model"), LMConfig)
    add_training(train, default_train_config())
    train.add_argument("--no-baseline", action="store_true", help="skip the n-gram baseline")
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    gen = verbs.add_parser("generate", help="write text with a trained model")
    gen.add_argument("model", type=Path)
    gen.add_argument("--prompt", default="")
    gen.add_argument("--length", type=int, default=300, help="tokens to generate")
    gen.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    gen.add_argument("--top-k", type=int, default=0)
    gen.add_argument("--top-p", type=float, default=1.0)
    gen.add_argument("--seed", type=int, default=None)
    gen.add_argument("--samples", type=int, default=1,
                     help="texts to write side by side in one batch (default 1, streamed)")
    gen.add_argument("--json", action="store_true")
    add_precision(gen)
    gen.set_defaults(func=run_generate)

    pred = verbs.add_parser("predict", help="the most likely next tokens after a prompt")
    pred.add_argument("model", type=Path)
    pred.add_argument("--prompt", required=True)
    pred.add_argument("--top", type=int, default=5)
    pred.add_argument("--json", action="store_true")
    add_precision(pred)
    pred.set_defaults(func=run_predict)

    ev = verbs.add_parser("evaluate", help="loss and bpc/perplexity of a model on a text")
    ev.add_argument("model", type=Path)
    ev.add_argument("file", help="text file or dataset name")
    ev.add_argument("--encoding", default="utf-8")
    ev.add_argument("--json", action="store_true")
    add_precision(ev)
    ev.set_defaults(func=run_evaluate)

    base = verbs.add_parser("baseline", help="Kneser-Ney 1- to 5-gram models on the same split")
    base.add_argument("--data", required=True)
    add_config(base, LMConfig, helps={}, skip=_NOT_FOR_BASELINE)
    base.add_argument("--encoding", default="utf-8")
    base.add_argument("--split", default="0.9,0.05,0.05")
    base.add_argument("--out", type=Path, help="also write metrics.json into this directory")
    base.add_argument("--sample", type=int, default=60, help="greedy tokens written by each order")
    base.add_argument("--json", action="store_true")
    base.set_defaults(func=run_baseline)


# the baseline reads tokens as a model would, and has no network
_NOT_FOR_BASELINE = ("cell", "layers", "hidden", "embedding", "dropout", "tie", "bptt", "batch")


def _score_line(name: str, m: dict, level: str) -> str:
    key = "bpc" if level == "char" else "ppl"
    return f"  {name:<28} {m['loss']:>8.4f} nats/token  {m[key]:>8.3f} {key}"


def run_train(args) -> int:
    train_config = train_config_from_args(args, default_train_config())
    bar = ProgressBar(train_config.steps, train_config.time if not train_config.steps else None)
    metrics = api.fit(
        args.data,
        args.out,
        config_from_args(LMConfig, args),
        train_config,
        split=parse_fractions(args.split),
        encoding=args.encoding,
        mode="window" if args.window else "carry",
        resume=args.resume, force=args.force,
        baseline=not args.no_baseline,
        callback=bar,
    )
    if args.json:
        print_json(metrics)
        return 130 if metrics["status"] == "interrupted" else 0
    level = metrics["level"]
    print(
        f"\n{metrics['status']} after {metrics['steps']} steps, {metrics['train_seconds']:.0f} s, "
        f"{metrics['tokens_per_second']:,} tokens/s, {metrics['parameters']:,} parameters, "
        f"clipped {100 * metrics['clipped_fraction']:.0f}% of steps"
    )
    print("validation:")
    print(_score_line("rnnkit", metrics["valid"], level))
    if "baseline" in metrics:
        best = metrics["baseline"]["best"]
        print(_score_line(f"best n-gram ({best['order']}-gram KN)", best, level))
    if metrics["test"]:
        print(_score_line("rnnkit on test", metrics["test"], level))
    out = args.out
    print(f"model: {out}/model.safetensors + config.json; resume state: {out}/checkpoint/")
    print(f"metrics: {out}/metrics.json, log: {out}/metrics.csv, curves: {out}/curves.png")
    return 130 if metrics["status"] == "interrupted" else 0


def run_generate(args) -> int:
    lm = api.load(args.model)
    if args.samples != 1:
        texts = api.generate_samples(lm, args.prompt, args.length, args.samples,
                                     args.temperature, args.top_k, args.top_p, args.seed)
        if args.json:
            print_json({"prompt": args.prompt, "texts": texts})
            return 0
        for k, text in enumerate(texts, 1):
            print(f"--- sample {k} of {len(texts)} ---")
            print(args.prompt + text)
        return 0
    pieces = api.generate(
        lm, args.prompt, args.length, args.temperature, args.top_k, args.top_p, args.seed
    )
    if args.json:
        print_json({"prompt": args.prompt, "text": "".join(pieces)})
        return 0
    sys.stdout.write(args.prompt)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def run_predict(args) -> int:
    lm = api.load(args.model)
    rows = api.predict(lm, args.prompt, args.top)
    if args.json:
        print_json({"prompt": args.prompt, "next": [{"token": t, "p": p} for t, p in rows]})
        return 0
    print(f"p(next | {args.prompt!r}):")
    for token, p in rows:
        print(f"  {token!r:>12}  {p:.4f}  {'#' * round(40 * p)}")
    return 0


def run_evaluate(args) -> int:
    lm = api.load(args.model)
    metrics = api.evaluate_data(lm, args.file, args.encoding)
    if args.json:
        print_json(metrics)
        return 0
    print(
        _score_line(str(args.file), metrics, lm.config.level) + f"  ({metrics['tokens']:,} tokens)"
    )
    return 0


def run_baseline(args) -> int:
    config = config_from_args(LMConfig, args, skip=_NOT_FOR_BASELINE)
    result = api.baseline(args.data, config, parse_fractions(args.split), args.encoding,
                          args.sample, args.out)
    if args.json:
        print_json(result)
        return 0
    key = "bpc" if config.level == "char" else "ppl"
    print(f"Kneser-Ney n-grams on {args.data} ({config.level} level), validation split:")
    for row in result["orders"]:
        print(
            f"  {row['order']}-gram  {row['loss']:.4f} nats/token  {row[key]:8.3f} {key}"
            f"  ({row['seconds']:.1f} s)"
        )
    if args.sample > 0:
        prompt = result["orders"][0]["prompt"].replace("\n", "⏎")
        print(f"\ngreedy continuations of {prompt!r} (⏎ = line end):")
        for row in result["orders"]:
            shown = row["greedy"].replace("\n", "⏎")
            print(f"  {row['order']}-gram: {shown[:90]}")
    return 0
