"""``rnnkit ctc train|predict|evaluate``: a CRNN (convolutions, a recurrent stack, CTC) that
reads digit strings from handwriting or speech, or the text of the user's images or WAVs."""

from __future__ import annotations

from pathlib import Path

from rnnkit.cli.common import positive_int, print_json
from rnnkit.cli.options import (
    add_config,
    add_force,
    add_precision,
    add_training,
    config_from_args,
    train_config_from_args,
)
from rnnkit.data.streams import parse_fractions
from rnnkit.errors import ConfigError
from rnnkit.tasks import ctc as api
from rnnkit.train.progress import ProgressBar


def _decoding(parser) -> None:
    group = parser.add_argument_group("decoding")
    group.add_argument("--beam", type=positive_int, default=1,
                       help="prefix beam width (1: the best path)")
    group.add_argument("--lm-weight", type=float, default=0.0,
                       help="weight of the character n-gram model in the beam (0: none)")
    group.add_argument("--insertion", type=float, default=0.0,
                       help="bonus per character with the language model")


def _options(args) -> api.DecodeOptions:
    options = api.DecodeOptions(beam=args.beam, lm_weight=args.lm_weight,
                                insertion=args.insertion)
    options.check()
    return options


def register(groups) -> None:
    group = groups.add_parser("ctc", help="read text from images or speech: CNN + RNN + CTC")
    verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train a CRNN into a directory")
    add_data(train, f"{', '.join(api.NAMED)}, or a CSV listing file,text of images or WAV "
                    "files")
    train.add_argument("--alphabet", help="the characters the model writes (default: those of "
                                          "the training texts; others are refused)")
    train.add_argument("--baselines", default="conv",
                       help="baselines trained beside, a fifth of the budget each: conv (the "
                            "front end alone), forward (a unidirectional RNN), or none "
                            "(default conv)")
    add_config(train.add_argument_group("model"), api.CTCConfig)
    add_training(train, api.default_train_config())
    train.add_argument("--resume", action="store_true",
                       help="continue the run saved in --out (--time/--steps: the new total)")
    add_force(train)
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    pr = verbs.add_parser("predict", help="the text read in each image or WAV file")
    pr.add_argument("model", type=Path, help="a directory written by rnnkit ctc train")
    pr.add_argument("files", nargs="+", type=Path, help="images or WAV files")
    pr.add_argument("--explain", action="store_true",
                    help="write a PNG of each input above its per-column label probabilities "
                         "into --plots")
    pr.add_argument("--plots", type=Path, default=Path("."),
                    help="folder of the --explain pictures (default: here)")
    _decoding(pr)
    pr.add_argument("--json", action="store_true")
    add_precision(pr)
    pr.set_defaults(func=run_predict)

    ev = verbs.add_parser("evaluate", help="CER, WER and string accuracy on a part of the data")
    ev.add_argument("model", type=Path, help="a directory written by rnnkit ctc train")
    ev.add_argument("--data", required=True,
                    help="the data it was trained on (its own split), a named dataset or a "
                         "listing")
    ev.add_argument("--part", choices=api.PARTS, help="default test")
    _decoding(ev)
    ev.add_argument("--json", action="store_true")
    add_precision(ev)
    ev.set_defaults(func=run_evaluate)


def add_data(train, what: str) -> None:
    """The data options of a train command that reads ``rnnkit.tasks.ctc.parts`` (ctc and
    caption): --data, --out, listings or a split, and the composed strings' options."""
    train.add_argument("--data", help=what)
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    train.add_argument("--valid", help="a validation listing (default: cut from --data)")
    train.add_argument("--test", help="a test listing (with --valid)")
    train.add_argument("--split", help="train,valid,test fractions of the source images, "
                                       "prompts or listed files (default 0.8,0.1,0.1)")
    add_config(train.add_argument_group("data"), api.ReadOptions)


def read_options(args, seed: int) -> api.ReadOptions:
    """The :class:`~rnnkit.tasks.ctc.ReadOptions` of the options :func:`add_data` declared."""
    given = {name: getattr(args, name) for name in ("strings", "eval_strings", "min_digits",
                                                    "max_digits")
             if getattr(args, name, None) is not None}
    if getattr(args, "split", None) is not None:
        given["split"] = parse_fractions(args.split)
    return api.ReadOptions(**given, seed=seed)


def _baselines(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names in ((), ("none",)):
        return ()
    for name in names:
        if name not in api.BASELINES:
            raise ConfigError.bad("baselines", f"has {name!r}; choose from "
                                               f"{', '.join(api.BASELINES)} or none")
    return names


def _row(name: str, scores: dict) -> str:
    return (f"  {name:<40}{100 * scores['cer']:>7.2f}%{100 * scores['wer']:>8.2f}%"
            f"{100 * scores['exact']:>8.1f}%")


HEADER = f"  {'':<40}{'CER':>8}{'WER':>9}{'exact':>9}"


def run_train(args) -> int:
    train = train_config_from_args(args, api.default_train_config())
    config = config_from_args(api.CTCConfig, args)
    if args.alphabet:
        config.alphabet = args.alphabet

    def progress(name: str, budget):
        if name != "rnnkit":
            print(f"baseline {name}: training on the same split", flush=True)
        return ProgressBar(budget.steps, budget.time if not budget.steps else None,
                           metric="cer")

    metrics = api.fit(args.data, args.out, config, train,
                      read=read_options(args, train.seed), valid=args.valid, test=args.test,
                      baselines=_baselines(args.baselines), progress=progress,
                      resume=args.resume, force=args.force)
    code = 130 if metrics["status"] == "interrupted" else 0
    if args.json:
        print_json(metrics)
        return code
    sizes = metrics["sizes"]
    print(f"\n{metrics['status']} after {metrics['steps']} steps, {metrics['train_seconds']:.0f} s;"
          f" {metrics['data']}: {sizes['train']:,} training examples ({metrics['split']}); "
          f"{metrics['model']}, {metrics['parameters']:,} parameters")
    for name, run in metrics.get("baselines", {}).items():
        print(f"baseline {name}: {run['model']}, {run['steps']} steps, "
              f"{run['train_seconds']:.0f} s")
    notes = {k: v for k, v in metrics["notes"].items() if v}
    if notes:
        print("data: " + ", ".join(f"{k} {v:,}" for k, v in notes.items()))
    print(HEADER)
    for part in ("valid", "test"):
        for name, scores in metrics[part].items():
            print(_row(f"{part}: {name}", scores))
    out = args.out
    print(f"model: {out}/model.safetensors + config.json; metrics: {out}/metrics.json; "
          "pictures: curves.png, example.png")
    return code


def run_predict(args) -> int:
    options = _options(args)
    loaded = api.load(args.model)
    examples = [loaded.example(path) for path in args.files]
    texts = loaded.predict(examples, options)
    pictures = []
    if args.explain:
        args.plots.mkdir(parents=True, exist_ok=True)
        for path, example in zip(args.files, examples):
            pictures.append(str(api.explain_picture(loaded, example,
                                                    args.plots / f"{path.stem}-ctc.png",
                                                    options)))
    if args.json:
        print_json([{"file": str(p), "text": t, **({"picture": pictures[i]} if pictures else {})}
                    for i, (p, t) in enumerate(zip(args.files, texts))])
        return 0
    for i, (path, text) in enumerate(zip(args.files, texts)):
        print(f"{path}\t{text}")
        if pictures:
            print(f"    picture: {pictures[i]}")
    return 0


def run_evaluate(args) -> int:
    options = _options(args)
    loaded = api.load(args.model)
    result = api.evaluate(loaded, args.data, args.part, options=options)
    if args.json:
        print_json(result)
        return 0
    print(f"{result['data']} ({result['part']}): {result['examples']:,} examples, "
          f"{result['decoding']} decoding")
    if result["characters outside the alphabet"]:
        print(f"warning: {result['characters outside the alphabet']:,} characters of the texts "
              "are outside the model's alphabet (counted as errors)")
    print(HEADER)
    print(_row("rnnkit", result["rnnkit"]))
    return 0
