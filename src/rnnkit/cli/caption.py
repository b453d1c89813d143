"""``rnnkit caption train|predict|evaluate``: a CNN encoder and an RNN decoder with attention
that write the words of an image (digit strings of real handwriting: "three one four"), beside
the context-vector model without attention."""

from __future__ import annotations

from pathlib import Path

from rnnkit.cli.common import positive_int, print_json
from rnnkit.cli.ctc import add_data, read_options
from rnnkit.cli.options import (
    add_config,
    add_force,
    add_precision,
    add_training,
    config_from_args,
    train_config_from_args,
)
from rnnkit.tasks import caption as api
from rnnkit.train.progress import ProgressBar


def _decoding(parser) -> None:
    group = parser.add_argument_group("decoding")
    group.add_argument("--beam", type=positive_int, default=1, help="beam size (1: greedy)")
    group.add_argument("--alpha", type=float, default=0.0,
                       help="beam length penalty ((5 + n) / 6) ** alpha (0: none)")


def _options(args) -> api.DecodeOptions:
    options = api.DecodeOptions(beam=args.beam, alpha=args.alpha)
    options.check()
    return options


def register(groups) -> None:
    group = groups.add_parser("caption", help="write the words of an image: CNN encoder, RNN "
                                              "decoder with attention")
    verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train a captioner into a directory")
    add_data(train, f"{', '.join(api.DATASETS)}, or a CSV listing file,text of images")
    train.add_argument("--no-baseline", dest="baseline", action="store_false",
                       help="train no context-vector baseline (by default it gets half the "
                            "budget, the model the other half)")
    add_config(train.add_argument_group("model"), api.CaptionConfig)
    add_training(train, api.default_train_config())
    train.add_argument("--resume", action="store_true",
                       help="continue the run saved in --out (--time/--steps: the new total)")
    add_force(train)
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    pr = verbs.add_parser("predict", help="the words of each image")
    pr.add_argument("model", type=Path, help="a directory written by rnnkit caption train")
    pr.add_argument("files", nargs="+", type=Path, help="image files")
    pr.add_argument("--explain", action="store_true",
                    help="write a PNG of each image's attention (words x columns) into --plots")
    pr.add_argument("--plots", type=Path, default=Path("."),
                    help="folder of the --explain pictures (default: here)")
    _decoding(pr)
    pr.add_argument("--json", action="store_true")
    add_precision(pr)
    pr.set_defaults(func=run_predict)

    ev = verbs.add_parser("evaluate", help="BLEU, word accuracy and exact match on a part of "
                                           "the data, beside the baseline")
    ev.add_argument("model", type=Path, help="a directory written by rnnkit caption train")
    ev.add_argument("--data", required=True,
                    help="the data it was trained on (its own split), a named dataset or a "
                         "listing")
    ev.add_argument("--part", choices=api.PARTS, help="default test")
    _decoding(ev)
    ev.add_argument("--json", action="store_true")
    add_precision(ev)
    ev.set_defaults(func=run_evaluate)


HEADER = f"  {'':<34}{'BLEU':>8}{'words':>9}{'exact':>9}"


def _row(name: str, scores: dict) -> str:
    return (f"  {name:<34}{scores['bleu']:>8.2f}{100 * scores['word_accuracy']:>8.1f}%"
            f"{100 * scores['exact']:>8.1f}%")


def run_train(args) -> int:
    train = train_config_from_args(args, api.default_train_config())

    def progress(name: str, budget):
        if name != "rnnkit":
            print(f"baseline {name}: the same network without attention, same budget",
                  flush=True)
        return ProgressBar(budget.steps, budget.time if not budget.steps else None,
                           metric="exact")

    metrics = api.fit(args.data, args.out, config_from_args(api.CaptionConfig, args), train,
                      read=read_options(args, train.seed), valid=args.valid, test=args.test,
                      baseline=args.baseline, progress=progress, resume=args.resume,
                      force=args.force)
    code = 130 if metrics["status"] == "interrupted" else 0
    if args.json:
        print_json(metrics)
        return code
    sizes = metrics["sizes"]
    print(f"\n{metrics['status']} after {metrics['steps']} steps, {metrics['train_seconds']:.0f} s;"
          f" {metrics['data']}: {sizes['train']:,} training images ({metrics['split']}); "
          f"{metrics['model']}, {metrics['parameters']:,} parameters")
    notes = {k: v for k, v in metrics["notes"].items() if v}
    if notes:
        print("data: " + ", ".join(f"{k} {v:,}" for k, v in notes.items()))
    print(HEADER)
    for part in ("valid", "test"):
        for name, scores in metrics[part].items():
            print(_row(f"{part}: {name}", scores))
    out = args.out
    pictures = "curves.png" + (", attention.png" if (out / "attention.png").exists() else "")
    print(f"model: {out}/model.safetensors + config.json; metrics: {out}/metrics.json; "
          f"pictures: {pictures}")
    return code


def run_predict(args) -> int:
    options = _options(args)
    loaded = api.load(args.model)
    images = [loaded.image(path) for path in args.files]  # every file read before decoding
    captions = loaded.caption(images, options, attention=args.explain)
    pictures = []
    if args.explain and loaded.config.attention != "none":
        args.plots.mkdir(parents=True, exist_ok=True)
        for path, result in zip(args.files, captions):
            pictures.append(str(api.explain_picture(result, args.plots / f"{path.stem}-caption"
                                                    ".png", f"attention: {result.text}")))
    if args.json:
        print_json([{"file": str(p), "caption": c.text,
                     **({"picture": pictures[i]} if pictures else {})}
                    for i, (p, c) in enumerate(zip(args.files, captions))])
        return 0
    for i, (path, result) in enumerate(zip(args.files, captions)):
        print(f"{path}\t{result.text}")
        if pictures:
            print(f"    picture: {pictures[i]}")
    if args.explain and not pictures:
        import sys

        print("rnnkit: this model has no attention (attention none): nothing to explain",
              file=sys.stderr)
    return 0


def run_evaluate(args) -> int:
    options = _options(args)
    loaded = api.load(args.model)
    result = api.evaluate(loaded, args.data, args.part, options=options)
    if args.json:
        print_json(result)
        return 0
    print(f"{result['data']} ({result['part']}): {result['examples']:,} images, "
          f"{result['rnnkit']['decoding']} decoding")
    print(HEADER)
    for name, scores in result.items():
        if isinstance(scores, dict) and "bleu" in scores:
            print(_row(name, scores))
    print(f"BLEU signature: {result['rnnkit']['signature']['bleu']}")
    return 0
