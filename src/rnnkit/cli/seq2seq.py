"""``rnnkit seq2seq train|translate|evaluate``: an encoder-decoder (attention or the plain
context vector) on a synthetic task, the bible-en-es corpus or a file of pairs, beside the copy
and nearest-neighbour baselines."""

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
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import seq2seq as api
from rnnkit.train.progress import ProgressBar

SYSTEMS = (("rnnkit", "rnnkit"), ("copy", "copy the source"),
           ("nearest", "nearest neighbour (TF-IDF)"))


def _columns(parser) -> None:
    parser.add_argument("--src-col", help="source column of a TSV/CSV/JSONL file (default: "
                                          "src/source/input..., or the first of two)")
    parser.add_argument("--tgt-col", help="target column (default: tgt/target/output..., or "
                                          "the second of two)")
    parser.add_argument("--encoding", help="encoding of the file (default utf-8)")


def _decoding(parser) -> None:
    group = parser.add_argument_group("decoding")
    group.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    group.add_argument("--alpha", type=float, default=0.0,
                       help="beam length penalty ((5 + n) / 6) ** alpha (0: none)")
    group.add_argument("--block-ngrams", type=int, default=0,
                       help="beam: forbid repeating any n-gram of this size (0: off)")
    group.add_argument("--sample", action="store_true", help="sample instead of the best token")
    group.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    group.add_argument("--top-k", type=int, default=0, help="sample from the k best (0: all)")
    group.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass")
    group.add_argument("--max-ratio", type=float, default=2.0,
                       help="outputs stop at max-ratio x source tokens + 10")
    group.add_argument("--seed", type=int, default=0, help="sampling seed")


def _options(args) -> api.DecodeOptions:
    options = api.DecodeOptions(beam=args.beam, alpha=args.alpha, block_ngrams=args.block_ngrams,
                                sample=args.sample, temperature=args.temperature,
                                top_k=args.top_k, top_p=args.top_p, max_ratio=args.max_ratio,
                                seed=args.seed)
    options.check()
    return options


def register(groups) -> None:
    group = groups.add_parser("seq2seq", help="sequence to sequence: encoder-decoder, attention")
    verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train an encoder-decoder into a directory")
    train.add_argument("--data", help="addition, reverse, sort, bible-en-es, or a pairs file "
                                      "(TSV/CSV/JSONL)")
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    train.add_argument("--valid", help="a validation pairs file (default: cut from --data)")
    train.add_argument("--test", help="a test pairs file (with --valid)")
    train.add_argument("--split", help="train,valid,test fractions of a file or synthetic task "
                                       "(default 0.8,0.1,0.1)")
    train.add_argument("--examples", type=positive_int,
                       help="synthetic tasks: distinct pairs in all (default 50000)")
    train.add_argument("--digits", type=positive_int, help="addition: digits per number "
                                                           "(default 3)")
    train.add_argument("--reverse-input", action="store_true",
                       help="addition: reverse the question (Keras's trick)")
    train.add_argument("--max-pairs", type=positive_int, help="use the first N training pairs")
    _columns(train)
    add_config(train.add_argument_group("model"), api.Seq2SeqConfig)
    add_training(train, api.default_train_config())
    train.add_argument("--resume", action="store_true",
                       help="continue the run saved in --out (--time/--steps: the new total)")
    add_force(train)
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    tr = verbs.add_parser("translate", help="write the output of each input line")
    tr.add_argument("model", type=Path, help="a directory written by rnnkit seq2seq train")
    tr.add_argument("file", nargs="?", help="a file of lines, or - for stdin (read when piped)")
    tr.add_argument("--text", help="one source to translate")
    tr.add_argument("--encoding", default="utf-8", help="encoding of the file")
    tr.add_argument("--explain", action="store_true",
                    help="print each output token's most attended source token, and write "
                         "attention heatmaps (PNG) into --plots")
    tr.add_argument("--plots", type=Path, default=Path("."),
                    help="folder of the --explain heatmaps (default: here)")
    _decoding(tr)
    tr.add_argument("--json", action="store_true")
    add_precision(tr)
    tr.set_defaults(func=run_translate)

    ev = verbs.add_parser("evaluate", help="BLEU, chrF and exact match beside the baselines")
    ev.add_argument("model", type=Path, help="a directory written by rnnkit seq2seq train")
    ev.add_argument("--data", required=True,
                    help="the data it was trained on (its own split) or another pairs file")
    ev.add_argument("--part", choices=api.PARTS,
                    help="of the training data's split (default test); other data: all")
    _columns(ev)
    _decoding(ev)
    ev.add_argument("--json", action="store_true")
    add_precision(ev)
    ev.set_defaults(func=run_evaluate)


def _read_options(args) -> api.ReadOptions:
    given = {name: getattr(args, name) for name in ("examples", "digits", "src_col", "tgt_col",
                                                    "encoding", "max_pairs")
             if getattr(args, name, None) is not None}
    if getattr(args, "reverse_input", False):
        given["reverse_input"] = True
    if getattr(args, "split", None) is not None:
        given["split"] = parse_fractions(args.split)
    return api.ReadOptions(**given)


def _table(rows: list[tuple[str, dict]]) -> None:
    print(f"  {'':<34}{'BLEU':>8}{'chrF':>8}{'exact':>8}")
    for name, scores in rows:
        print(f"  {name:<34}{scores['bleu']:>8.2f}{scores['chrf']:>8.2f}"
              f"{100 * scores['exact']:>7.1f}%")


def run_train(args) -> int:
    train = train_config_from_args(args, api.default_train_config())
    bar = ProgressBar(train.steps, train.time if not train.steps else None, metric="exact")
    read = _read_options(args)
    read.seed = train.seed
    metrics = api.fit(args.data, args.out, config_from_args(api.Seq2SeqConfig, args), train,
                      read=read, valid=args.valid, test=args.test, callback=bar,
                      resume=args.resume, force=args.force)
    code = 130 if metrics["status"] == "interrupted" else 0
    if args.json:
        print_json(metrics)
        return code
    sizes = metrics["sizes"]
    print(f"\n{metrics['status']} after {metrics['steps']} steps, {metrics['train_seconds']:.0f} s;"
          f" {metrics['data']}: {sizes['train']:,} training pairs ({metrics['split']}); "
          f"{metrics['model']}, {metrics['parameters']:,} parameters")
    notes = {k: v for k, v in metrics["notes"].items() if v}
    if notes:
        print("data: " + ", ".join(f"{k} {v:,}" for k, v in notes.items()))
    if metrics["teacher"]["schedule"] != "constant" or metrics["teacher"]["floor"] < 1:
        print(f"teacher forcing: {metrics['teacher']['schedule']}, ratio at the end "
              f"{metrics['teacher']['final']:.2f}")
    rows = []
    for part in ("valid", "test"):
        for key, name in SYSTEMS:
            if part in metrics[key]:
                rows.append((f"{part}: {name}", metrics[key][part]))
    _table(rows)
    last = metrics["rnnkit"].get("test") or metrics["rnnkit"]["valid"]
    print(f"BLEU signature: {last['signature']['bleu']}")
    out = args.out
    pictures = "curves.png" + (", attention.png" if (out / "attention.png").exists() else "")
    print(f"model: {out}/model.safetensors + config.json; metrics: {out}/metrics.json; "
          f"pictures: {pictures}")
    return code


def _lines(args) -> list[str]:
    if args.text is not None and args.file is not None:
        raise ConfigError("give the input once: a FILE, - for stdin, or --text")
    if args.text is not None:
        return [args.text]
    if args.file is None and stdin_is_piped():
        args.file = "-"
    if args.file is None:
        raise ConfigError("give the input: a FILE of lines, - (stdin) or --text \"...\"")
    if args.file == "-":
        text = sys.stdin.read()
    else:
        path = Path(args.file)
        if not path.is_file():
            raise DataError(f"no such file: {path}; check the path")
        try:
            text = path.read_text(encoding=args.encoding)
        except UnicodeDecodeError:
            raise DataError(f"{path} is not {args.encoding} text; give a text file (or "
                            "--encoding)") from None
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError("the input holds no line to translate; give non-empty lines")
    return lines


def run_translate(args) -> int:
    options = _options(args)
    lines = _lines(args)
    loaded = api.load(args.model)
    results = loaded.translate(lines, options, attention=args.explain)
    unknown = sum(r.unknown for r in results)
    cut = sum(r.cut for r in results)
    if args.json:
        print_json([{"source": s, "output": r.text, "unknown": r.unknown, "cut": r.cut,
                     **({"alignment": r.alignment()} if args.explain else {})}
                    for s, r in zip(lines, results)])
    else:
        for i, result in enumerate(results, 1):
            print(result.text)
            if args.explain and result.attention is not None:
                args.plots.mkdir(parents=True, exist_ok=True)
                path = api.explain_picture(result, args.plots / f"attention-{i}.png",
                                           loaded.config.attention)
                for token, source_token, weight in result.alignment():
                    print(f"    {token!r:>12} <- {source_token!r} ({weight:.2f})")
                print(f"    heatmap: {path}")
    if unknown:
        print(f"rnnkit: {unknown} source token{'s' if unknown != 1 else ''} unknown to the model "
              f"{'were' if unknown != 1 else 'was'} read as <unk>", file=sys.stderr)
    if cut:
        print(f"rnnkit: warning: {cut} source{'s were' if cut != 1 else ' was'} longer than the "
              f"model's max_length ({loaded.config.max_length} tokens) and cut", file=sys.stderr)
    if args.explain and loaded.config.attention == "none":
        print("rnnkit: this model has no attention (attention none): nothing to explain",
              file=sys.stderr)
    return 0


def run_evaluate(args) -> int:
    options = _options(args)
    loaded = api.load(args.model)
    result = api.evaluate(loaded, args.data, args.part, _read_options(args), options=options)
    if args.json:
        print_json(result)
        return 0
    print(f"{result['data']} ({result['part']}): {result['pairs']:,} pairs, "
          f"{options.method} decoding" + (f" (beam {options.beam})" if options.beam > 1 else ""))
    _table([(name, result[key]) for key, name in SYSTEMS if key in result])
    print(f"rnnkit: loss {result['rnnkit']['loss']:.4f}, perplexity "
          f"{result['rnnkit']['perplexity']:.3f}, token accuracy "
          f"{100 * result['rnnkit']['token_accuracy']:.1f}% (teacher forced)")
    print(f"BLEU signature: {result['rnnkit']['signature']['bleu']}")
    return 0
