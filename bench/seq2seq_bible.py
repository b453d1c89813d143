"""Translating the Bible verse by verse (bible-en-es: King James -> Reina-Valera 1909, or back)
with a time budget per model, beside the copy and nearest-neighbour baselines.

Held-out books (valid: Esth, Lam, Hab, Phil, Titus, 1Pet; test: Ruth, Eccl, Jonah, Mark, Gal,
Jas, Jude) are never trained on. Each setup trains for ``--time`` seconds on 2 cores, then the
test books are translated with greedy search and with beam search (5 beams, length penalty
alpha 0.6) and scored with sacrebleu (BLEU, chrF).

    python bench/seq2seq_bible.py                                  # 4 setups x 10 minutes
    python bench/seq2seq_bible.py --setups luong-subword --time 1800 --direction es-en

Setups (subword: BPE, 4,000 pieces learnt on the training books): ``none-subword`` (the
context-vector model), ``bahdanau-feed-subword`` (additive attention with input feeding, as
OpenNMT), ``luong-subword`` and ``luong-char`` (general attention without input feeding, the
default); also ``bahdanau-feed-char``, ``none-char``. Run it alone: a second torch process on
the same cores halves every model's steps. Scoring 1,300 test verses with beam 5 takes minutes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rnnkit.tasks import seq2seq as api
from rnnkit.train.loop import TrainConfig

SETUPS = {
    "none-subword": dict(attention="none", level="subword"),
    "bahdanau-feed-subword": dict(attention="bahdanau", input_feeding=True, level="subword"),
    "luong-subword": dict(attention="general", level="subword"),
    "luong-char": dict(attention="general", level="char"),
    "bahdanau-feed-char": dict(attention="bahdanau", input_feeding=True, level="char"),
    "none-char": dict(attention="none", level="char"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups",
                        default="none-subword,bahdanau-feed-subword,luong-subword,luong-char")
    parser.add_argument("--time", type=float, default=600.0, help="training seconds per setup")
    parser.add_argument("--direction", default="en-es", choices=("en-es", "es-en"))
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--test-pairs", type=int, default=0,
                        help="score only the first N test verses (0: all)")
    parser.add_argument("--out", type=Path, help="keep the models here (default: a temp dir)")
    args = parser.parse_args()
    src, tgt = args.direction.split("-")
    read = api.ReadOptions(src_col=src, tgt_col=tgt)
    parts = api.read_parts(api.BIBLE, read)
    test = parts.test[: args.test_pairs or None]
    sources, references = [s for s, _ in test], [t for _, t in test]
    print(f"{parts.source}: {len(parts.train):,} training verses, {len(parts.valid):,} valid, "
          f"{len(parts.test):,} test ({parts.split}); scoring {len(test):,}")
    rows = [("copy the source", api.text_scores(api.copy_source(sources), references), None)]
    nearest = api.NearestNeighbour().fit(parts.train)
    rows.append(("nearest neighbour (TF-IDF)", api.text_scores(nearest.predict(sources),
                                                               references), None))
    folder = args.out or Path(tempfile.mkdtemp(prefix="rnnkit-bible-"))
    for name in args.setups.split(","):
        config = api.Seq2SeqConfig(hidden=args.hidden, **SETUPS[name])
        metrics = api.fit(api.BIBLE, folder / name, config,
                          TrainConfig(time=args.time, eval_every=250, checkpoint_every=10_000),
                          read=read, force=True)
        loaded = api.load(folder / name)
        for beam in (1, args.beam):
            options = api.DecodeOptions(beam=beam, alpha=0.6 if beam > 1 else 0.0,
                                        max_ratio=1.6)
            started = time.perf_counter()
            outputs = loaded.predict(sources, options)
            seconds = time.perf_counter() - started
            label = f"{name} {'greedy' if beam == 1 else f'beam {beam}'}"
            rows.append((label, api.text_scores(outputs, references),
                         (metrics["steps"], metrics["train_seconds"], len(sources) / seconds)))
        print(f"{name}: {metrics['model']}, {metrics['parameters']:,} parameters, "
              f"{metrics['steps']} steps ({metrics['epochs']} epochs) in "
              f"{metrics['train_seconds']:.0f} s; e.g. {outputs[0]!r}", flush=True)
    print(f"\n{args.direction}, test books, {len(test):,} verses; BLEU "
          f"{rows[0][1]['signature']['bleu']}")
    print(f"  {'':<30}{'BLEU':>7}{'chrF':>7}{'len':>6}{'steps':>7}{'train s':>9}{'sent/s':>8}")
    for label, scores, run in rows:
        extra = f"{run[0]:>7}{run[1]:>9.0f}{run[2]:>8.1f}" if run else ""
        print(f"  {label:<30}{scores['bleu']:>7.2f}{scores['chrf']:>7.2f}"
              f"{scores['length_ratio']:>6.2f}{extra}")
    print(f"\nmodels in {folder}")


if __name__ == "__main__":
    main()
