"""Run an experiment into its folder and write what it found: ``metrics.json``, ``report.md``,
and the folder's ``index.html`` (every experiment present, with its figures and verdict)."""

from __future__ import annotations

import datetime
import html
import json
import platform
import shutil
import time
from pathlib import Path

import torch

from rnnkit.errors import RnnkitError
from rnnkit.experiments.base import Context, Experiment, Result, Table
from rnnkit.train import checkpoint as ckpt

METRICS, REPORT, INDEX = "metrics.json", "report.md", "index.html"


def run_one(experiment: Experiment, out, *, quick: bool = False, seeds: int = 3,
            progress=None) -> dict:
    """Run ``experiment`` into ``out/NAME/`` (emptied first: a report never mixes two runs)
    and return its record."""
    if seeds < 1:
        raise RnnkitError(f"seeds must be at least 1, got {seeds}")
    out = check_out(out)
    folder = out / experiment.name
    if folder.exists():
        if not (folder / METRICS).is_file() and any(folder.iterdir()):
            raise RnnkitError(f"{folder} exists and holds no experiment's metrics.json; give "
                              "another --out, or remove it")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    context = Context(folder, quick=quick, seeds=seeds, progress=progress)
    started = time.perf_counter()
    result = experiment.run(context)
    seconds = time.perf_counter() - started
    record = _record(experiment, result, context, seconds)
    ckpt.write_json(folder / METRICS, record)
    (folder / REPORT).write_text(report_markdown(experiment, result, record), encoding="utf-8")
    write_index(out)
    return record


def check_out(out) -> Path:
    """``out`` as a Path, refused in one line when it cannot hold the results."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RnnkitError(f"{out} is a file, not a folder; give --out a folder for the "
                          "experiments' results")
    return out


def _record(experiment: Experiment, result: Result, context: Context, seconds: float) -> dict:
    missing = [f.path.name for f in result.figures if not f.path.is_file()]
    if missing:  # a bug in the experiment, not a user's error
        raise RuntimeError(f"{experiment.name} names figures it did not draw: {missing}")
    return {
        "experiment": experiment.name,
        "number": experiment.number,
        "title": experiment.title,
        "claim": experiment.claim,
        "verdict": {"held": result.verdict.held, "word": result.verdict.word,
                    "text": result.verdict.text},
        "quick": context.quick,
        "seeds": result.seeds if result.seeds is not None else context.seed_list(),
        "seconds": round(seconds, 1),
        "setup": result.setup,
        "tables": [t.to_dict() for t in result.tables],
        "figures": [{"file": f.path.name, "caption": f.caption} for f in result.figures],
        "notes": result.notes,
        "metrics": result.metrics,
        "versions": {"rnnkit": _version(), "torch": torch.__version__,
                     "python": platform.python_version()},
        "threads": torch.get_num_threads(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _version() -> str:
    from rnnkit import __version__

    return __version__


# -- report.md ------------------------------------------------------------------------------
def _cell(value, digits: int) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if abs(value) >= 1e5 or (value != 0 and abs(value) < 10 ** -digits):
            return f"{value:.{max(digits - 1, 1)}e}"
        return f"{value:,.{digits}f}"
    return str(value)


def table_markdown(table: Table) -> str:
    head = "| " + " | ".join(c.replace("|", "\\|") for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(_cell(v, table.digits).replace("|", "\\|") for v in row) + " |"
            for row in table.rows]
    note = f"\n\n{table.note}" if table.note else ""
    return "\n".join([f"**{table.title}**", "", head, rule, *rows]) + note


def report_markdown(experiment: Experiment, result: Result, record: dict) -> str:
    form = "quick form" if record["quick"] else "full form"
    seeds = record["seeds"]
    parts = [
        f"# {experiment.number}. {experiment.title}",
        f"**Claim.** {experiment.claim}",
        f"**Verdict: {result.verdict.word}.** {result.verdict.text}",
        "## Setup",
        result.setup,
        "## Results",
        *[table_markdown(t) for t in result.tables],
        *[f"![{f.caption}]({f.path.name})\n\n*{f.caption}*" for f in result.figures],
    ]
    if result.notes:
        parts += ["## Notes", "\n".join(f"- {n}" for n in result.notes)]
    versions = record["versions"]
    parts.append(
        f"---\n{form}, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}; "
        f"{record['seconds']:.0f} s on {record['threads']} thread(s); rnnkit "
        f"{versions['rnnkit']}, torch {versions['torch']}; {record['date']}. Rerun: `rnnkit "
        f"experiment run {experiment.name}{' --quick' if record['quick'] else ''}`."
    )
    return "\n\n".join(parts) + "\n"


# -- index.html -----------------------------------------------------------------------------
STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d2329; background: #f5f6f8; }
header { background: #1d2329; color: #fff; padding: 24px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c8ced6; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
nav table, section table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #e2e5e9; padding: 5px 10px; text-align: left;
         vertical-align: top; }
th { background: #eef0f3; font-weight: 600; }
td { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: normal;
         white-space: nowrap; }
td.text { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
section { background: #fff; border-radius: 8px; margin: 22px 0; padding: 18px 24px;
          box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
section h2 { margin: 0 0 8px; font-size: 20px; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 10px; color: #fff;
         font-size: 13px; font-weight: 600; white-space: nowrap; }
.held { background: #2e7d32; } .failed { background: #c62828; }
.unsettled { background: #757575; } .error { background: #6a1b9a; }
.verdict { margin: 10px 0; padding: 8px 12px; background: #f3f6f9;
           border-left: 4px solid #90a4ae; }
figure { margin: 14px 0; } figure img { max-width: 100%; border: 1px solid #e2e5e9; }
figcaption { color: #555; font-size: 13px; }
.small { color: #666; font-size: 13px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
"""


def _badge(record: dict) -> str:
    if "error" in record:
        return '<span class="badge error">could not run</span>'
    held = record["verdict"]["held"]
    kind = {True: "held", False: "failed", None: "unsettled"}[held]
    return f'<span class="badge {kind}">{html.escape(record["verdict"]["word"])}</span>'


def _html_table(table: dict) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in table["columns"])
    rows = []
    for row in table["rows"]:
        cells = []
        for value in row:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            long = isinstance(value, str) and len(value) > 30
            cls = ' class="num"' if number else (' class="text"' if long else "")
            cells.append(f"<td{cls}>{e(_cell(value, table.get('digits', 3)))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="small">{e(table["note"])}</p>' if table.get("note") else ""
    return (f"<h3>{e(table['title'])}</h3><table><tr>{head}</tr>{''.join(rows)}</table>"
            f"{note}")


def _section(record: dict) -> str:
    e = html.escape
    name = record["experiment"]
    if "error" in record:
        body = f'<p class="verdict">{e(record["error"])}</p>'
    else:
        figures = "".join(
            f'<figure><a href="{e(name)}/{e(f["file"])}"><img src="{e(name)}/{e(f["file"])}" '
            f'alt="{e(f["caption"])}"></a>'
            f"<figcaption>{e(f['caption'])}</figcaption></figure>"
            for f in record["figures"]
        )
        form = "quick form" if record["quick"] else "full form"
        body = (
            f'<p class="verdict"><b>{e(record["verdict"]["word"].capitalize())}.</b> '
            f'{e(record["verdict"]["text"])}</p>'
            f"<p>{e(record['setup'])}</p>"
            + "".join(_html_table(t) for t in record["tables"])
            + figures
            + f'<p class="small">{form}, {record["seconds"]:.0f} s, seeds '
            f'{", ".join(map(str, record["seeds"]))}; <a href="{e(name)}/report.md">'
            f"report.md</a>, <a href=\"{e(name)}/metrics.json\">metrics.json</a></p>"
        )
    return (f'<section id="{e(name)}"><h2>{record["number"]}. {e(record["title"])} '
            f"{_badge(record)}</h2><p><i>{e(record['claim'])}</i></p>{body}</section>")


def read_records(out) -> list[dict]:
    """The records of the experiments ``out`` holds, in the order of the list."""
    records = []
    for path in sorted(Path(out).glob(f"*/{METRICS}")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and "experiment" in record and "number" in record:
            records.append(record)
    return sorted(records, key=lambda r: r["number"])


def write_index(out, errors: list[dict] | None = None) -> Path:
    """``out/index.html``: one static page with every experiment's verdict, tables and figures
    (read from ``out/*/metrics.json``), plus the ``errors`` of experiments that could not
    run."""
    e = html.escape
    records = read_records(out)
    known = {r["experiment"] for r in records}
    records += [r for r in errors or [] if r["experiment"] not in known]
    records.sort(key=lambda r: r["number"])
    summary = "".join(
        f'<tr><td>{r["number"]}</td><td><a href="#{e(r["experiment"])}">'
        f'{e(r["title"])}</a></td><td>{_badge(r)}</td>'
        f'<td class="num">{r.get("seconds", 0):.0f} s</td></tr>'
        for r in records
    )
    held = sum(1 for r in records if r.get("verdict", {}).get("held") is True)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rnnkit experiments</title><style>{STYLE}</style></head>
<body><header><h1>The textbook claims about recurrent networks, measured</h1>
<p>{len(records)} experiment(s) by rnnkit; the claim held in {held}. Each section shows the
setup, the numbers, the figures and the verdict of this run.</p></header>
<main><nav><table><tr><th>#</th><th>claim</th><th>verdict</th><th>time</th></tr>
{summary}</table></nav>
{"".join(_section(r) for r in records)}
</main></body></html>
"""
    path = Path(out) / INDEX
    ckpt.atomic_write(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return path
