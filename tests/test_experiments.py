"""rnnkit experiment: the list, the runner's files (metrics.json, report.md, index.html), the
quick form of the context experiment end to end, and the CRNN experiment's measuring pieces."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest
import torch

from clitools import ENV, RNNKIT
from rnnkit import experiments
from rnnkit.errors import ConfigError
from rnnkit.experiments import base, crnn, runner
from rnnkit.experiments.context import _repetitive


def test_the_list_names_every_experiment_once_in_order():
    found = experiments.available()
    assert [x.name for x in found] == list(experiments.NAMES)
    assert [x.number for x in found] == list(range(1, 12))
    assert all(x.claim and x.title and x.minutes > 0 for x in found)
    assert sum(x.minutes for x in found) <= 30  # the budget for `run all`
    assert sum(x.quick_seconds for x in found) <= 180


def test_list_command_prints_every_name():
    done = subprocess.run(RNNKIT + ["experiment", "list"], capture_output=True, text=True,
                          env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in experiments.NAMES:
        assert f" {name} " in done.stdout


def test_an_unknown_name_is_a_one_line_error_naming_the_choices():
    with pytest.raises(ConfigError, match="no experiment called 'gradients'.*vanishing"):
        experiments.get("gradients")


def test_mean_and_spread_and_the_noise_test():
    assert base.mean_pm([1.0, 2.0, 3.0], 2) == "2.00 ± 1.00 (3 seeds)"
    assert base.mean_pm([0.5]) == "0.500 (1 seed)"
    assert base.clearly_apart([5.0, 5.1, 4.9], [1.0, 1.1, 0.9])
    assert not base.clearly_apart([1.2, 1.0, 1.4], [1.0, 1.2, 0.8])  # within the noise
    assert not base.clearly_apart([1.0], [2.0])  # the wrong way round


def test_repetition_is_found_in_degenerate_text_only():
    assert _repetitive("I withe the the the the the the the the")
    assert _repetitive("x" + " " * 30)
    assert not _repetitive("ROMEO: What light through yonder window breaks")


def test_tables_format_numbers_for_reading():
    table = base.Table("t", ["model", "bits", "n"], [["a|b", 1.23456, 12345], ["c", math.nan, 0]])
    text = runner.table_markdown(table)
    assert "| a\\|b | 1.235 | 12,345 |" in text
    assert "| c | NaN | 0 |" in text


@pytest.fixture(scope="module")
def quick_context(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    done = subprocess.run(RNNKIT + ["experiment", "run", "context", "--quick", "--out",
                                    str(out)], capture_output=True, text=True, env=ENV,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return out, done


def test_a_quick_run_writes_its_record_report_figure_and_the_index(quick_context):
    out, done = quick_context
    folder = out / "context"
    record = json.loads((folder / "metrics.json").read_text())
    assert record["experiment"] == "context" and record["quick"] and record["seeds"] == [0]
    assert record["verdict"]["held"] in (True, False, None)
    assert record["verdict"]["word"].upper() in done.stdout
    bits = record["metrics"]["ngram_bits"]
    assert list(bits) == ["1", "2", "3", "5"]
    # real text: the unigram pays about 4.8 bits a character, each longer context less
    assert 4.3 < bits["1"] < 5.2 and bits["1"] > bits["2"] > bits["3"] > bits["5"]
    assert record["metrics"]["unigram_degenerate"]
    assert (folder / "perplexity_by_order.png").stat().st_size > 10_000
    report = (folder / "report.md").read_text()
    assert report.startswith("# 1. Context beats counting")
    assert "**Verdict:" in report and "![" in report and "| 5-gram (Kneser-Ney) |" in report
    page = (out / "index.html").read_text()
    assert 'id="context"' in page and 'src="context/perplexity_by_order.png"' in page


def test_a_rerun_replaces_the_folder_and_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "context").mkdir()
    (tmp_path / "context" / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="holds no experiment's metrics.json"):
        experiments.run("context", tmp_path, quick=True)
    assert (tmp_path / "context" / "notes.txt").read_text() == "mine"


def test_the_index_shows_an_experiment_that_could_not_run(tmp_path):
    page = runner.write_index(tmp_path, [{"experiment": "crnn", "number": 8, "title": "T",
                                          "claim": "C", "error": "could not run: no data"}])
    text = page.read_text()
    assert "could not run: no data" in text and 'id="crnn"' in text


def test_spikes_are_the_peak_of_each_run_of_a_label():
    # columns: blank, 3, 3 (stronger), blank, 5, 5, 3
    probs = torch.full((7, 11), 0.01)
    best = [0, 4, 4, 0, 6, 6, 4]
    for t, label in enumerate(best):
        probs[t, label] = 0.9
    probs[2, 4] = 0.95
    probs[4, 6] = 0.97
    assert crnn.spike_columns(probs.log()) == [(4, 2), (6, 4), (4, 6)]


def test_spaced_strings_know_where_each_digit_is():
    strings = crnn.spaced_strings(4, seed=1)
    for image, text, spans in strings:
        assert 3 <= len(text) <= 8 and len(spans) == len(text)
        assert image.shape[0] == crnn.HEIGHT
        for (first, last), nxt in zip(spans, spans[1:] + [(image.shape[1], 0)]):
            assert first <= last < nxt[0]
            assert image[:, first].max() > 0.1 and image[:, last].max() > 0.1


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian: chromium)")
def test_the_index_renders_in_headless_chromium_with_its_figure(quick_context, tmp_path):
    out, _ = quick_context
    shot = tmp_path / "index.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}",
                    "--window-size=1200,1400", f"--screenshot={shot}",
                    (out / "index.html").resolve().as_uri()],
                   capture_output=True, timeout=120)
    from PIL import Image

    picture = Image.open(shot).convert("RGB")
    assert picture.size == (1200, 1400)
    # the dark header band, the white cards and the plot's blue line are all drawn
    colours = picture.getcolors(1 << 20)
    assert colours is not None and len(colours) > 200
    assert picture.getpixel((600, 20))[0] < 60  # the header
    blue = sum(n for n, (r, g, b) in colours if b > 150 and r < 60 and 90 < g < 140)
    assert blue > 50  # matplotlib's C0 line: the figure loaded
