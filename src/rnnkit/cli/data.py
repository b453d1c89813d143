"""``rnnkit data list|get``: the real datasets rnnkit can fetch by name."""

from __future__ import annotations

import json
import sys

from rnnkit.data import registry


def register(groups) -> None:
    parser = groups.add_parser("data", help="list and fetch real datasets by name")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    listing = verbs.add_parser("list", help="the datasets, their size and licence, cached or not")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=run_list)

    get = verbs.add_parser("get", help="download, convert and cache a dataset; print its path")
    get.add_argument("name", help="dataset name (see `rnnkit data list`)")
    get.add_argument("--json", action="store_true", help="print JSON instead of text")
    get.set_defaults(func=run_get)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 1e5 else f"{size / 1e3:.0f} KB"


def run_list(args) -> int:
    rows = [
        {
            "name": info.name,
            "kind": info.kind,
            "bytes": info.size,
            "licence": info.licence,
            "cached": info.is_cached(),
            "source": info.source,
            "description": info.description,
        }
        for info in registry.list_datasets()
    ]
    if args.json:
        print(json.dumps({"cache": str(registry.cache_dir()), "datasets": rows}, indent=2))
        return 0
    width = max([4] + [len(row["name"]) for row in rows])
    licence = max([7] + [len(row["licence"]) for row in rows])
    print(f"{'name':<{width}} {'kind':<8} {'size':>9}  {'cached':<6}  {'licence':<{licence}} "
          "description")
    for row in rows:
        print(f"{row['name']:<{width}} {row['kind']:<8} {_megabytes(row['bytes']):>9}  "
              f"{'yes' if row['cached'] else 'no':<6}  {row['licence']:<{licence}} "
              f"{row['description']}")
    print("\nm4-hourly (the 414 M4 Hourly series, for rnnkit forecast) is on no package index: "
          "it is read from\n$RNNKIT_M4 or ../shared/data/m4 (Hourly-train.csv, Hourly-test.csv)")
    print(f"\ncache: {registry.cache_dir()}  (set RNNKIT_DATA to move it)")
    return 0


def run_get(args) -> int:
    info = registry.get_info(args.name)  # an unknown name fails here, before any bar is drawn
    from tqdm import tqdm

    with tqdm(total=3, desc=info.name, unit="step", file=sys.stderr, leave=False,
              bar_format="{desc}: {bar} {n_fmt}/{total_fmt} [{elapsed}]") as bar:

        def progress(stage: str, done: int, total: int) -> None:
            bar.set_description_str(f"{info.name}: {stage}")
            bar.update(done - bar.n)

        path = registry.fetch(info.name, progress=progress)
    size = path.stat().st_size
    if args.json:
        print(json.dumps({"name": info.name, "path": str(path), "bytes": size,
                          "sha256": info.sha256}, indent=2))
    else:
        print(f"{path}  ({_megabytes(size)}, {size:,} bytes)")
    return 0
