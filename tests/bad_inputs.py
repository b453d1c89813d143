"""The bad-input table: user mistakes across every command group, each with the words its one
line must hold. ``cases(folder, model)`` writes the files the cases need into ``folder``;
``model`` is a trained LM directory (for the commands that read one). Used by
tests/test_bad_inputs.py (every case as a subprocess) and bench/bad_inputs.py (prints it)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
ALICE, AIR = str(FIXTURES / "alice_head.txt"), str(FIXTURES / "airpassengers.csv")
SENTIMENT = str(FIXTURES / "sentiment_sample.tsv")


def cases(folder: Path, model: Path) -> dict[str, tuple[list[str], list[str]]]:
    def write(name: str, content: str | bytes) -> str:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    empty, png = write("empty.txt", ""), write("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\r")
    latin = write("latin.txt", "café au lait\n".encode("latin-1"))
    utf16 = write("utf16.txt", "hello there\n".encode("utf-16"))
    damaged = folder / "damaged"
    damaged.mkdir()
    for name in ("config.json", "model.safetensors"):
        (damaged / name).write_bytes((model / name).read_bytes()[: 100 if "safe" in name else None])
    out = str(folder / "out")
    lm = ["lm", "train", "--out", out, "--steps", "1"]
    cl = ["classify", "train", "--out", out, "--steps", "1"]
    tag = ["tag", "train", "--out", out, "--steps", "1"]
    fc = ["forecast", "train", "--out", out, "--steps", "1"]
    s2s = ["seq2seq", "train", "--out", out, "--steps", "1"]
    gaps = write("gaps.csv", "time,value\n2020-01-01,1\n2020-01-02,\n2020-01-03,3\n")
    return {
        # the command line itself
        "unknown group": (["speak"], ["invalid choice: 'speak'", "see rnnkit --help"]),
        "missing option file": (["lm", "train", "@" + str(folder / "none.txt")],
                                ["none.txt", "option"]),
        "missing cell plugin": (["--cells", str(folder / "cells.py"), "lm", "train"],
                                ["cells.py"]),
        "bad duration": (lm + ["--data", ALICE, "--time", "5x"], ["'5x' is not a duration"]),
        "negative duration": (lm + ["--data", ALICE, "--time", "-5s"],
                              ["--time", "more than zero", "-5s"]),
        "misspelt option": (fc + ["--data", "airpassengers", "--horizn", "12"],
                            ["unknown option --horizn", "did you mean --horizon?"]),
        # data
        "unknown dataset": (["data", "get", "nope"], ["unknown dataset 'nope'"]),
        "data get without a name": (["data", "get"], ["required: name"]),
        # language models
        "missing text": (lm + ["--data", str(folder / "none.txt")], ["no such file"]),
        "empty text": (lm + ["--data", empty], ["is empty"]),
        "binary text": (lm + ["--data", png], ["looks binary"]),
        "latin-1 text": (lm + ["--data", latin], ["--encoding latin-1"]),
        "utf-16 text": (lm + ["--data", utf16], ["--encoding utf-16"]),
        "no data": (lm, ["--data"]),
        "hidden 0": (lm + ["--data", ALICE, "--hidden", "0"], ["--hidden must be positive"]),
        "unknown cell": (lm + ["--data", ALICE, "--cell", "nope"], ["invalid choice: 'nope'"]),
        "bad split": (lm + ["--data", ALICE, "--split", "0.5,0.6,0.1"], ["split"]),
        "negative lr": (lm + ["--data", ALICE, "--lr", "-1"], ["--lr"]),
        "unknown dataset name": (lm + ["--data", "shakespear"], ["shakespear"]),
        "trained model in --out": (["lm", "train", "--out", str(model), "--data", ALICE,
                                    "--steps", "1"], ["already holds a trained model",
                                                      "--resume", "--force"]),
        "resume of nothing": (["lm", "train", "--out", str(folder / "never"), "--resume"],
                              ["never", "no model directory", "rnnkit lm train"]),
        "generate without a model": (["lm", "generate", str(folder / "none")],
                                     ["no model directory", "rnnkit lm train"]),
        "negative temperature": (["lm", "generate", str(model), "--temperature", "-1"],
                                 ["temperature"]),
        "top-p over 1": (["lm", "generate", str(model), "--top-p", "2"], ["top"]),
        "top 0": (["lm", "predict", str(model), "--prompt", "a", "--top", "0"], ["--top"]),
        "evaluate a missing file": (["lm", "evaluate", str(model), str(folder / "none.txt")],
                                    ["no such file"]),
        "truncated weights": (["lm", "predict", str(damaged), "--prompt", "a"],
                              ["model.safetensors is corrupt"]),
        # classification
        "missing text column": (cl + ["--data", SENTIMENT, "--text-col", "review"],
                                ["no text column 'review'"]),
        "missing label column": (cl + ["--data", SENTIMENT, "--label-col", "stars"],
                                 ["no label column 'stars'", "--label-col"]),
        "empty table": (cl + ["--data", write("empty.csv", "")], ["is empty"]),
        "single class": (cl + ["--data", write("one.csv", "text,label\na,pos\nb,pos\n")],
                         ["single class"]),
        "five classes": (cl + ["--data", "sentiment", "--classes", "5"], ["--classes must be 2"]),
        "unknown pooling": (cl + ["--data", SENTIMENT, "--pooling", "min"],
                            ["invalid choice: 'min'"]),
        "classify a missing model": (["classify", "predict", str(folder / "none"), "--text",
                                      "hi"], ["rnnkit classify train"]),
        "an LM given to classify": (["classify", "predict", str(model), "--text", "hi"],
                                    ["'lm' model, not a 'classify' one"]),
        # tagging
        "CoNLL line without a tag": (tag + ["--data", write("short.conll", "The DT\ncat\n")],
                                     ["line 2", "--tag-col"]),
        "JSONL lengths differ": (tag + ["--data", write("bad.jsonl", '{"tokens": ["a", "b"], '
                                                                     '"tags": ["X"]}\n')],
                                 ["2 tokens but 1 tags"]),
        "empty CoNLL": (tag + ["--data", write("empty.conll", "")], ["is empty"]),
        "unknown tag task": (tag + ["--data", ALICE, "--task", "nope"], ["invalid choice"]),
        "tag with a missing model": (["tag", "predict", str(folder / "none")],
                                     ["rnnkit tag train"]),
        # forecasting
        "missing series file": (fc + ["--data", str(folder / "none.csv"), "--horizon", "3"],
                                ["no such file"]),
        "missing value column": (fc + ["--data", AIR, "--value-col", "sales", "--horizon", "3"],
                                 ["set --value-cols to one of them"]),
        "non-numeric value": (fc + ["--data", write("nonnum.csv", "time,value\n2020-01-01,1\n"
                                                    "2020-01-02,x\n"), "--horizon", "1"],
                              ["not numeric", "'x'"]),
        "series too short": (fc + ["--data", AIR, "--horizon", "12", "--lookback", "200"],
                             ["144 values"]),
        "horizon 0": (fc + ["--data", AIR, "--horizon", "0"], ["--horizon"]),
        "gaps without fill": (fc + ["--data", gaps, "--horizon", "1"],
                              ["set --fill to interpolate or ffill"]),
        "unknown frequency": (fc + ["--data", AIR, "--freq", "fortnightly", "--horizon", "3"],
                              ["fortnightly"]),
        "duplicated time": (fc + ["--data", write("dup.csv", "time,value\n2020-01-01,1\n"
                                                  "2020-01-01,2\n2020-01-02,3\n"), "--horizon",
                                  "1"], ["2020-01-01"]),
        "unknown fill": (fc + ["--data", gaps, "--fill", "magic", "--horizon", "1"],
                         ["--fill must be interpolate or ffill, got 'magic'"]),
        "damaged gzip": (fc + ["--data", write("series.csv.gz", b"\x00not gzip"), "--horizon",
                               "1"], ["series.csv.gz", "compressed as its name says"]),
        "too many backtest windows": (["forecast", "backtest", "--data", AIR, "--horizon",
                                       "12", "--windows", "20", "--out", out, "--steps", "1"],
                                      ["windows"]),
        # sequence to sequence
        "pairs file of one column": (s2s + ["--data", write("one.tsv", "src\nabc\nabd\n")],
                                     ["one.tsv", "--tgt-col"]),
        "pairs with empty sides only": (s2s + ["--data", write("holes.tsv",
                                                               "src\ttgt\n\tx\ny\t\n")],
                                        ["holes.tsv", "no pair with both sides"]),
        "missing pairs file": (s2s + ["--data", str(folder / "none.tsv")], ["no such file"]),
        "schedule without a floor": (s2s + ["--data", "addition", "--teacher-schedule",
                                            "linear"], ["--teacher below 1"]),
        "beam 0": (["seq2seq", "translate", str(model), "--text", "x", "--beam", "0"],
                   ["--beam must be at least 1"]),
        "seq2seq on an lm directory": (["seq2seq", "translate", str(model), "--text", "x"],
                                       ["'lm' model", "rnnkit seq2seq train"]),
        "nothing to translate": (["seq2seq", "translate", str(model), empty],
                                 ["no line to translate"]),
        # reading with CTC
        "listing without a text column": (["ctc", "train", "--out", out, "--steps", "1",
                                           "--data", write("nolabel.csv",
                                                           "file,label\nimage.png,1\n")],
                                          ["nolabel.csv", "text"]),
        "ctc on an lm directory": (["ctc", "predict", str(model), png],
                                   ["'lm' model", "rnnkit ctc train"]),
        "forecast with a missing model": (["forecast", "predict", str(folder / "none"),
                                           "--data", AIR], ["rnnkit forecast train"]),
        "unknown experiment": (["experiment", "run", "gradient", "--out", out],
                               ["no experiment called 'gradient'", "rnnkit experiment list"]),
        "experiment with 0 seeds": (["experiment", "run", "context", "--seeds", "0"],
                                    ["--seeds", "must be positive"]),
        "experiment into a file": (["experiment", "run", "context", "--quick", "--out", png],
                                   ["image.png", "not a folder"]),
    }
