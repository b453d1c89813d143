"""``rnnkit tag train|evaluate|predict``: a tag per token (CoNLL/JSONL files, or punctuation
restoration and word segmentation built from any text), beside the majority-tag baseline."""

from __future__ import annotations

import sys
from pathlib import Path

from rnnkit.cli.common import positive_int, print_json, stdin_is_piped
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
from rnnkit.tasks import tag as api
from rnnkit.train.progress import ProgressBar

SPLITS = ("valid", "test")


def _read_options(parser) -> None:
    parser.add_argument("--token-col", type=int, help="CoNLL: token column (0-based; default 0)")
    parser.add_argument("--tag-col", type=int, help="CoNLL: tag column (default -1: the last)")
    parser.add_argument("--encoding", help="encoding of the file (default utf-8)")


def _given(args, *names: str) -> dict:
    """The options among ``names`` the user gave; the library's defaults stand for the rest."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def register(groups) -> None:
    tag = groups.add_parser("tag", help="sequence tagging: a label per token")
    verbs = tag.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train a tagger into a directory")
    train.add_argument("--data",
                       help="a .conll/.jsonl file, or a text file or corpus name (alice, "
                            "shakespeare, kjv) for --task punct|segment")
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    train.add_argument("--valid", help="a validation file (default: cut from --data)")
    train.add_argument("--test", help="a test file (with --valid)")
    train.add_argument("--split",
                       help="train,valid,test fractions of --data, in contiguous blocks "
                            "(default 0.8,0.1,0.1)")
    train.add_argument("--max-sentences", type=positive_int,
                       help="use only the first N sequences of --data")
    _read_options(train)
    add_config(train.add_argument_group("model"), api.TagConfig)
    add_training(train, api.default_train_config())
    train.add_argument("--resume", action="store_true",
                       help="continue the run saved in --out (its data, split and model; "
                            "--time/--steps set the new total budget)")
    add_force(train)
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    ev = verbs.add_parser("evaluate", help="score a tagger and the baseline on data")
    ev.add_argument("model", type=Path, help="a directory written by rnnkit tag train")
    ev.add_argument("--data", required=True,
                    help="a tagged file, or for punct|segment models a text file or corpus")
    ev.add_argument("--part", choices=api.PARTS,
                    help="all of --data (default), or the train/valid/test block of the "
                         "model's own split of it (for the data it was trained on)")
    _read_options(ev)
    ev.add_argument("--json", action="store_true")
    add_precision(ev)
    ev.set_defaults(func=run_evaluate)

    pred = verbs.add_parser("predict", help="tag text (and restore it, for punct|segment)")
    pred.add_argument("model", type=Path, help="a directory written by rnnkit tag train")
    pred.add_argument("file", nargs="?",
                      help="a text file (or .conll/.jsonl), or - for stdin (read when piped)")
    pred.add_argument("--text", help="the text to tag")
    pred.add_argument("--encoding", help="encoding of the file (default utf-8)")
    pred.add_argument("--json", action="store_true")
    add_precision(pred)
    pred.set_defaults(func=run_predict)


def _columns(task: str) -> list[str]:
    extra = {"punct": ["punct_f1", "case_f1"], "segment": ["word_f1"]}.get(task, [])
    return ["accuracy", "macro_f1", *extra]


def _print_scores(task: str, rows: list[tuple[str, dict]]) -> None:
    columns = _columns(task)
    print(f"  {'':<24}" + "".join(f"{c:>10}" for c in columns))
    for name, metrics in rows:
        values = api.headline(task, metrics)
        print(f"  {name:<24}" + "".join(f"{values[c]:>10.4f}" for c in columns))


def run_train(args) -> int:
    train = train_config_from_args(args, api.default_train_config())
    bar = ProgressBar(train.steps, train.time if not train.steps else None, metric="accuracy")
    reading = _given(args, "max_sentences", "token_col", "tag_col", "encoding")
    if args.split is not None:
        reading["split"] = parse_fractions(args.split)
    metrics = api.fit(args.data, args.out, config_from_args(api.TagConfig, args), train,
                      resume=args.resume, force=args.force, valid=args.valid, test=args.test,
                      callback=bar,
                      **reading)
    code = 130 if metrics["status"] == "interrupted" else 0
    if args.json:
        print_json(metrics)
        return code
    sizes = metrics["sizes"]
    kind = "bidirectional" if metrics["bidirectional"] else "forward-only"
    print(f"\n{metrics['status']} after {metrics['steps']} steps, {metrics['train_seconds']:.0f} s;"
          f" {metrics['tagging']} on {metrics['data']}: {sizes['train']['tokens']:,} training "
          f"tokens, {len(metrics['tags'])} tags; {kind} {metrics['cell']} "
          f"{metrics['layers']}x{metrics['hidden']}, {metrics['parameters']:,} parameters")
    notes = {k: v for k, v in metrics["notes"].items() if v and k not in ("words", "characters")}
    if notes:
        print("data: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in notes.items()))
    rows = []
    for part in SPLITS:
        if part in metrics["rnnkit"]:
            rows += [(f"{part}: rnnkit", metrics["rnnkit"][part]),
                     (f"{part}: majority tag", metrics["baseline"][part])]
    _print_scores(metrics["tagging"], rows)
    out = args.out
    print(f"model: {out}/model.safetensors + config.json; metrics: {out}/metrics.json "
          f"(per-tag scores), tags.png (F1 per tag), log: {out}/metrics.csv")
    return code


def run_evaluate(args) -> int:
    loaded = api.load(args.model)
    result = api.evaluate(loaded, args.data, **_given(args, "token_col", "tag_col", "encoding",
                                                      "part"))
    if args.json:
        print_json(result)
        return 0
    n = result["sequences"]
    print(f"{result['data']} ({result['part']}): {n:,} sequence{'s' if n != 1 else ''}, "
          f"{result['tokens']:,} tokens, {100 * result['unknown_rate']:.1f}% unknown to the model")
    _print_scores(loaded.config.task, [("rnnkit", result["rnnkit"]),
                                       ("majority tag", result["baseline"])])
    if result["rnnkit"]["unseen_tags"]:
        print("tags the model never saw (always wrong): "
              + ", ".join(result["rnnkit"]["unseen_tags"]))
    print(f"per-tag scores: {args.model}/evaluation.json (kept in metrics.json too)")
    return 0


def _input_text(args) -> tuple[str | None, object | None]:
    """(raw text, tagged data) to predict on: --text, stdin, a text file or a tagged file."""
    from rnnkit.data.tagging import is_tagged_file, read_tagged
    from rnnkit.data.text import read_text_file

    if args.text is not None and args.file is not None:
        raise ConfigError("give the text once: a FILE, - for stdin, or --text")
    if args.text is not None:
        return args.text, None
    if args.file is None and stdin_is_piped():
        args.file = "-"  # text piped in
    if args.file == "-":
        return sys.stdin.read(), None
    if args.file is None:
        raise ConfigError("give the text to tag: a FILE, - (stdin) or --text \"...\"")
    if is_tagged_file(args.file):
        return None, read_tagged(args.file, **_given(args, "encoding"))
    return read_text_file(args.file, **_given(args, "encoding")), None


def run_predict(args) -> int:
    loaded = api.load(args.model)
    text, tagged = _input_text(args)
    if tagged is not None:
        tags = loaded.predict(tagged.sentences)
        sequences = [{"tokens": s, "tags": t} for s, t in zip(tagged.sentences, tags)]
        restored = None
    else:
        prediction = loaded.predict_text(text)
        sequences, restored = prediction.sequences, prediction.text
    if args.json:
        print_json({"sequences": sequences, "text": restored})
        return 0
    for row in sequences:
        if loaded.config.task == "segment":
            print("".join(row["tokens"]))
            print("".join(row["tags"]))
        else:
            print(" ".join(f"{token}/{tag}" for token, tag in zip(row["tokens"], row["tags"])))
    if restored is not None:
        print("\nrestored:")
        print(restored)
    return 0
