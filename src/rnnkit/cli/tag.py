"""``rnnkit tag train|evaluate|predict``: a tag per token (CoNLL/JSONL files, or punctuation
restoration and word segmentation built from any text), beside the majority-tag baseline."""

from __future__ import annotations

import sys
from pathlib import Path

from rnnkit.cli.common import duration, positive_int, print_json, stdin_is_piped
from rnnkit.data.streams import parse_fractions
from rnnkit.errors import ConfigError
from rnnkit.train.progress import ProgressBar

SPLITS = ("valid", "test")


def _read_options(parser) -> None:
    parser.add_argument("--token-col", type=int, default=0, help="CoNLL: token column (0-based)")
    parser.add_argument("--tag-col", type=int, default=-1, help="CoNLL: tag column (-1 = last)")
    parser.add_argument("--encoding", default="utf-8", help="encoding of the file")


def register(groups) -> None:
    from rnnkit.tasks.tag_model import TagConfig, default_train_config

    tag = groups.add_parser("tag", help="sequence tagging: a label per token")
    verbs = tag.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train a tagger into a directory")
    train.add_argument("--data",
                       help="a .conll/.jsonl file, or a text file or corpus name (alice, "
                            "shakespeare, kjv) for --task punct|segment")
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    train.add_argument("--task", choices=("punct", "segment", "conll"),
                       help="punct (restore punctuation and capitals), segment (restore "
                            "spaces) or conll (the file's own tags; default for .conll/.jsonl)")
    train.add_argument("--valid", help="a validation file (default: cut from --data)")
    train.add_argument("--test", help="a test file (with --valid)")
    train.add_argument("--split", default="0.8,0.1,0.1",
                       help="train,valid,test fractions of --data, in contiguous blocks")
    train.add_argument("--max-sentences", type=positive_int,
                       help="use only the first N sequences of --data")
    _read_options(train)
    d, t = TagConfig(), default_train_config()
    m = train.add_argument_group("model")
    m.add_argument("--cell", default=d.cell, help="lstm, gru, rnn, ln-lstm, ln-gru, gru-cho")
    m.add_argument("--layers", type=positive_int, default=d.layers)
    m.add_argument("--hidden", type=positive_int, default=d.hidden)
    m.add_argument("--embedding", type=positive_int, default=d.embedding)
    m.add_argument("--dropout", type=float, default=d.dropout)
    m.add_argument("--no-bidirectional", action="store_true",
                   help="read forwards only (for comparison)")
    m.add_argument("--min-count", type=positive_int, default=d.min_count,
                   help="word tasks: rarer training words become <unk>")
    m.add_argument("--max-length", type=int, default=d.max_length,
                   help="punct/segment: words/characters per sequence (0 = 64/200)")
    o = train.add_argument_group("optimisation")
    budget = o.add_mutually_exclusive_group()
    budget.add_argument("--time", type=duration, help=f"wall-time budget (default {t.time:.0f}s)")
    budget.add_argument("--steps", type=positive_int, help="optimizer steps budget")
    o.add_argument("--batch", type=positive_int, default=d.batch, help="sequences per step")
    o.add_argument("--lr", type=float, default=t.lr)
    o.add_argument("--weight-decay", type=float, default=t.weight_decay)
    o.add_argument("--clip-at", type=float, default=t.clip_at, help="gradient norm clip")
    o.add_argument("--eval-every", type=positive_int, default=t.eval_every)
    o.add_argument("--patience", type=int, default=t.patience, help="early stopping; 0 = off")
    o.add_argument("--seed", type=int, default=t.seed)
    train.add_argument("--resume", action="store_true",
                       help="continue the run saved in --out (its data, split and model; "
                            "--time/--steps set the new total budget)")
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    ev = verbs.add_parser("evaluate", help="score a tagger and the baseline on data")
    ev.add_argument("model", type=Path, help="a directory written by rnnkit tag train")
    ev.add_argument("--data", required=True,
                    help="a tagged file, or for punct|segment models a text file or corpus")
    ev.add_argument("--part", default="all",
                    help="all of --data, or the train/valid/test block of the model's own split "
                         "of it (for the data it was trained on)")
    _read_options(ev)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=run_evaluate)

    pred = verbs.add_parser("predict", help="tag text (and restore it, for punct|segment)")
    pred.add_argument("model", type=Path, help="a directory written by rnnkit tag train")
    pred.add_argument("file", nargs="?",
                      help="a text file (or .conll/.jsonl), or - for stdin (read when piped)")
    pred.add_argument("--text", help="the text to tag")
    pred.add_argument("--encoding", default="utf-8")
    pred.add_argument("--json", action="store_true")
    pred.set_defaults(func=run_predict)


def _configs(args):
    from rnnkit.tasks.tag_model import TagConfig, default_train_config

    config = TagConfig(task=args.task or "", cell=args.cell, layers=args.layers,
                       hidden=args.hidden, embedding=args.embedding, dropout=args.dropout,
                       bidirectional=not args.no_bidirectional, batch=args.batch,
                       min_count=args.min_count, max_length=args.max_length)
    train = default_train_config(lr=args.lr, weight_decay=args.weight_decay,
                                 clip_at=args.clip_at, eval_every=args.eval_every,
                                 patience=args.patience, seed=args.seed)
    if args.steps:
        train.steps, train.time = args.steps, None
    elif args.time:
        train.time = args.time
    return config, train


def _columns(task: str) -> list[str]:
    extra = {"punct": ["punct_f1", "case_f1"], "segment": ["word_f1"]}.get(task, [])
    return ["accuracy", "macro_f1", *extra]


def _print_scores(task: str, rows: list[tuple[str, dict]]) -> None:
    from rnnkit.tasks.tag_task import headline

    columns = _columns(task)
    print(f"  {'':<24}" + "".join(f"{c:>10}" for c in columns))
    for name, metrics in rows:
        values = headline(task, metrics)
        print(f"  {name:<24}" + "".join(f"{values[c]:>10.4f}" for c in columns))


def run_train(args) -> int:
    from rnnkit.tasks import tag as api

    if args.test and not args.valid:
        raise ConfigError("--test needs --valid (without them both parts are cut from --data)")
    if args.data is None and not args.resume:
        raise ConfigError("give the data to tag: --data NAME|FILE (or --resume a run in --out)")
    config, train = _configs(args)
    bar = ProgressBar(train.steps, train.time if not train.steps else None, metric="accuracy")
    metrics = api.fit(args.data, args.out, config, train, task=args.task, resume=args.resume,
                      split=parse_fractions(args.split), max_sentences=args.max_sentences,
                      valid=args.valid, test=args.test, token_col=args.token_col,
                      tag_col=args.tag_col, encoding=args.encoding, callback=bar)
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
    from rnnkit.tasks import tag as api

    loaded = api.load(args.model)
    result = api.evaluate(loaded, args.data, token_col=args.token_col, tag_col=args.tag_col,
                          encoding=args.encoding, part=args.part)
    if args.json:
        print_json(result)
        return 0
    n = result["sequences"]
    print(f"{result['data']} ({args.part}): {n:,} sequence{'s' if n != 1 else ''}, "
          f"{result['tokens']:,} tokens, {100 * result['unknown_rate']:.1f}% unknown to the model")
    _print_scores(loaded.config.task, [("rnnkit", result["rnnkit"]),
                                       ("majority tag", result["baseline"])])
    if result["rnnkit"]["unseen_tags"]:
        print("tags the model never saw (always wrong): "
              + ", ".join(result["rnnkit"]["unseen_tags"]))
    print(f"per-tag scores: {args.model}/evaluation.json")
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
        return None, read_tagged(args.file, encoding=args.encoding)
    return read_text_file(args.file, args.encoding), None


def run_predict(args) -> int:
    from rnnkit.tasks import tag as api

    loaded = api.load(args.model)
    text, tagged = _input_text(args)
    if tagged is not None:
        tags = api.predict(loaded, tagged.sentences)
        sequences = [{"tokens": s, "tags": t} for s, t in zip(tagged.sentences, tags)]
        restored = None
    else:
        prediction = api.predict_text(loaded, text)
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
