"""``rnnkit classify train|evaluate|predict``: texts or sequences -> one label each."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from rnnkit.cli.common import print_json, stdin_is_piped
from rnnkit.errors import ConfigError, DataError

TABULAR = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json")


def _read_options(parser) -> None:
    """Options for reading labelled data; unset, they keep the library's defaults."""
    d = parser.add_argument_group("data")
    d.add_argument("--data", help="dataset name (sentiment, japanese-vowels) or a CSV/TSV/JSONL "
                                  "file")
    d.add_argument("--text-col", help="text column (default: text, sentence, review, ...)")
    d.add_argument("--label-col", help="label column (default: label, class, sentiment, ...)")
    d.add_argument("--kind", help="auto, text or series (numeric sequences) (default: auto)")
    d.add_argument("--id-col", help="series in long form: the sequence id column")
    d.add_argument("--time-col", help="series in long form: the step column (t, time, step)")
    d.add_argument("--value-col", "--value-cols", dest="value_cols",
                   help="series: value columns, comma-separated (default: all)")
    d.add_argument("--classes", type=int, help="sentiment: 2 (sign of the rating, 0 left out) "
                                                "or 3 (with neutral) (default: 2)")
    d.add_argument("--neutral", type=float,
                   help="sentiment, 3 classes: |rating| below this is neutral (default: 0.5)")
    d.add_argument("--encoding", help="encoding of a file (default: utf-8)")


def _read_kwargs(args) -> dict:
    """The read options given (None: not given; the library's defaults apply)."""
    values = args.value_cols
    columns = [c.strip() for c in values.split(",") if c.strip()] if values else None
    return {"text_col": args.text_col, "label_col": args.label_col, "kind": args.kind,
            "id_col": args.id_col, "time_col": args.time_col, "value_cols": columns,
            "classes": args.classes, "neutral": args.neutral, "encoding": args.encoding}


def _default(function, name: str):
    return inspect.signature(function).parameters[name].default


def register(groups) -> None:
    from rnnkit.cli.options import add_config, add_force, add_precision, add_training
    from rnnkit.tasks import classify as api

    cl = groups.add_parser("classify", help="sequence classification beside a TF-IDF baseline")
    verbs = cl.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train a classifier into a directory")
    _read_options(train)
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    split = ",".join(f"{f:g}" for f in _default(api.fit, "split"))
    train.add_argument("--split", help=f"train,valid,test fractions (default: {split})")
    train.add_argument("--split-seed", type=int,
                       help=f"seed of the split (default: {_default(api.fit, 'split_seed')})")
    add_config(train.add_argument_group("model"), api.ClassifyConfig)
    add_training(train, api.default_train_config())
    train.add_argument("--no-baseline", action="store_true", help="skip TF-IDF + logistic reg.")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    add_force(train)
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    ev = verbs.add_parser("evaluate", help="accuracy, macro-F1 and confusion on labelled data")
    ev.add_argument("model", type=Path, help="a directory written by rnnkit classify train")
    _read_options(ev)
    ev.add_argument("--part", choices=api.PARTS,
                    help="all rows, or the train/valid/test rows of the model's own split of "
                         f"this data (default: {_default(api.evaluate, 'part')})")
    ev.add_argument("--json", action="store_true")
    add_precision(ev)
    ev.set_defaults(func=run_evaluate)

    pr = verbs.add_parser("predict", help="label and class probabilities of each text")
    pr.add_argument("model", type=Path, help="a directory written by rnnkit classify train")
    pr.add_argument("file", nargs="?", help="texts, one per line (- or a pipe: stdin), or a "
                                            "CSV/TSV/JSONL file with a text column")
    pr.add_argument("--text", action="append", default=[], help="a text (repeatable)")
    pr.add_argument("--text-col", help="text column of a CSV/TSV/JSONL file")
    pr.add_argument("--encoding", help="encoding of the file (default: utf-8)")
    pr.add_argument("--explain", action="store_true",
                    help="attention pooling: the tokens the model attended to")
    pr.add_argument("--json", action="store_true")
    add_precision(pr)
    pr.set_defaults(func=run_predict)


def _skipped(skipped: dict) -> str:
    return "; ".join(f"{n:,} skipped ({why})" for why, n in skipped.items())


def _confusion(report: dict, title: str) -> None:
    names = report["labels"]
    width = max(8, *(len(n) + 1 for n in names))
    print(title)
    print(" " * (width + 2) + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, report["confusion"]):
        print(f"  {name:<{width}}" + "".join(f"{v:>{width},}" for v in row))


def _per_class(report: dict) -> None:
    print(f"  {'class':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for name, row in report["per_class"].items():
        print(f"  {name:<12}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}"
              f"{row['support']:>10,}")


def run_train(args) -> int:
    from rnnkit.cli.options import config_from_args, train_config_from_args
    from rnnkit.data.streams import parse_fractions
    from rnnkit.tasks import classify as api
    from rnnkit.train.progress import ProgressBar

    if not args.data and not args.resume:
        raise ConfigError("give the examples: --data NAME|FILE (e.g. --data sentiment)")
    model_config = config_from_args(api.ClassifyConfig, args)
    train_config = train_config_from_args(args, api.default_train_config())
    split = {} if args.split is None else {"split": parse_fractions(args.split)}
    if args.split_seed is not None:
        split["split_seed"] = args.split_seed
    bar = ProgressBar(train_config.steps, train_config.time if not train_config.steps else None,
                      metric="accuracy")
    metrics = api.fit(args.data, args.out, model_config, train_config, **split,
                      baseline=not args.no_baseline, resume=args.resume, force=args.force,
                      callback=bar,
                      **_read_kwargs(args))
    if args.json:
        print_json(metrics)
        return 130 if metrics["rnnkit"]["status"] == "interrupted" else 0
    r, data, parts = metrics["rnnkit"], metrics["data"], metrics["split"]
    print(f"\n{r['status']} after {r['steps']} steps, {r['train_seconds']:.0f} s (weights of "
          f"step {r['best_step']}); {data['source']}: {data['examples']:,} examples"
          + (f", {_skipped(data['skipped'])}" if data["skipped"] else "")
          + f"; split {parts['train']:,} / {parts['valid']:,} / {parts['test']:,}")
    rows = [("rnnkit", r)]
    if "baseline" in metrics:
        b = metrics["baseline"]
        rows.append((f"{b['name']} (C={b['C']:g})", b))
    shown = [s for s in ("valid", "test") if s in r]
    print(f"  {'method':<24}" + "".join(f"{s + ' acc':>12}{s + ' F1':>12}" for s in shown)
          + f"{'seconds':>10}")
    for name, row in rows:
        cells = "".join(f"{row[s]['accuracy']:>12.4f}{row[s]['macro_f1']:>12.4f}" for s in shown)
        print(f"  {name:<24}{cells}{row['seconds']:>10.1f}")
    last = shown[-1]
    _confusion(r[last], f"confusion matrix, rnnkit on the {last} split (rows: true class):")
    _per_class(r[last])
    if f"{last}_by_origin" in r:
        base = metrics.get("baseline", {}).get(f"{last}_by_origin", {})
        print(f"{last} accuracy by source: " + ", ".join(
            f"{o} {a:.3f}" + (f" (baseline {base[o]:.3f})" if o in base else "")
            for o, a in r[f"{last}_by_origin"].items()))
    print(f"model: {args.out}/model.safetensors + config.json; report: {args.out}/metrics.json, "
          "metrics.csv, confusion.png")
    return 130 if r["status"] == "interrupted" else 0


def run_evaluate(args) -> int:
    from rnnkit.tasks import classify as api

    loaded = api.load(args.model)
    if not args.data:
        raise ConfigError("give the labelled examples: --data NAME|FILE")
    part = {} if args.part is None else {"part": args.part}
    report = api.evaluate(loaded, args.data, **part, **_read_kwargs(args))
    path = args.model / "metrics.json"  # where evaluate keeps the scores
    if args.json:
        print_json(report)
        return 0
    print(f"{report['source']} ({report['part']}): {report['count']:,} examples"
          + (f", {_skipped(report['skipped'])}" if report["skipped"] else "")
          + f"; accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}")
    _per_class(report)
    _confusion(report, "confusion matrix (rows: true class):")
    print(f"picture: {report['confusion_png']}; scores added to {path}")
    return 0


def _predict_inputs(args, loaded):
    """The texts (or sequences) to classify and the number of empty lines left out."""
    from rnnkit.data.labelled import read_labelled
    from rnnkit.data.text import read_text_file

    if args.text:
        return args.text, 0
    if args.file is None and stdin_is_piped():
        args.file = "-"  # texts piped in
    if args.file is None:
        raise ConfigError("give texts to classify: a FILE, - for stdin, or --text '...'")
    encoding = {} if args.encoding is None else {"encoding": args.encoding}
    tabular = args.file != "-" and Path(args.file).suffix.lower() in TABULAR
    if tabular or loaded.config.kind == "series":
        data = read_labelled(args.file, text_col=args.text_col, kind=loaded.config.kind,
                             require_labels=False, **encoding)
        return (data.texts if data.kind == "text" else data.sequences), sum(data.skipped.values())
    text = sys.stdin.read() if args.file == "-" else read_text_file(args.file, **encoding)
    lines = text.splitlines()
    kept = [line.strip() for line in lines if line.strip()]
    if not kept:
        raise DataError("no text to classify: the input is empty; give one text per line")
    return kept, len(lines) - len(kept)


def run_predict(args) -> int:
    from rnnkit.tasks import classify as api

    loaded = api.load(args.model)
    if args.explain and loaded.config.pooling != "attention":
        loaded.explain("")  # the one-line error that says why, before reading the inputs
    inputs, skipped = _predict_inputs(args, loaded)
    result = loaded.predict(inputs)
    texts = inputs if loaded.config.kind == "text" else [f"sequence {i}" for i in
                                                         range(len(inputs))]
    rows = []
    for i, text in enumerate(texts):
        row = {"label": result.labels[i], "probabilities": dict(zip(
            result.names, (round(float(p), 6) for p in result.probabilities[i])))}
        if loaded.config.kind == "text":
            row["text"] = text
        if args.explain:
            row["attention"] = [[t, round(w, 4)] for t, w in loaded.explain(text)]
        rows.append(row)
    if skipped:
        print(f"rnnkit: {skipped} empty lines or rows skipped", file=sys.stderr)
    if args.json:
        print_json({"predictions": rows, "skipped": skipped})
        return 0
    print("\t".join(["label", *(f"p({n})" for n in result.names), "text"]))
    for row in rows:
        probs = "\t".join(f"{p:.4f}" for p in row["probabilities"].values())
        print(f"{row['label']}\t{probs}\t{row.get('text', '')}")
        if args.explain:
            top = sorted(row["attention"], key=lambda tw: -tw[1])[:5]
            print("  attended: " + "  ".join(f"{t} {w:.2f}" for t, w in top))
    return 0
