"""Data from Debian's archive: a .deb built here (ar + data.tar) is unpacked in Python, checked
against its pinned sha256, fetched through apt-get (a stand-in on PATH) or found where the
user put it by hand, and a machine without apt gets one line saying what to fetch and where."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from rnnkit.data import debian, registry
from rnnkit.errors import DataError

VERSE = "In the beginning God created the heaven and the earth.\n"


def ar(members: dict[str, bytes]) -> bytes:
    out = bytearray(debian.AR_MAGIC)
    for name, data in members.items():
        header = (f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n")
        out += header.encode("ascii") + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def tar(files: dict[str, bytes], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tarred:
        for name, data in files.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tarred.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def build_deb(folder: Path, compression: str = "xz", name: str = "sword-text-kjv",
              version: str = "2.9-1") -> Path:
    data = tar({"./usr/share/sword/modules/texts/kjv/ot.txt": VERSE.encode(),
                "./usr/share/doc/sword-text-kjv/copyright": b"public domain\n"},
               f"w:{compression}")
    deb = folder / f"{name}_{version}_all.deb"
    deb.write_bytes(ar({"debian-binary": b"2.0\n",
                        "control.tar.gz": tar({"./control": b"Package: x\n"}, "w:gz"),
                        f"data.tar.{compression}": data}))
    return deb


@pytest.mark.parametrize("compression", ["xz", "gz", "bz2"])
def test_a_deb_is_unpacked_in_python(tmp_path, compression):
    deb = build_deb(tmp_path, compression)
    found = debian.data_members(deb, r"usr/share/sword/modules/texts/kjv/.*\.txt")
    assert found == {"usr/share/sword/modules/texts/kjv/ot.txt": VERSE.encode()}


@pytest.mark.parametrize(("damage", "words"), [
    (lambda b: b"not an ar file", "no ar header"),
    (lambda b: b[:len(b) // 2], "truncated"),
    (lambda b: ar({"debian-binary": b"2.0\n"}), "holds no data.tar"),
])
def test_a_damaged_deb_is_one_line(tmp_path, damage, words):
    deb = build_deb(tmp_path)
    deb.write_bytes(damage(deb.read_bytes()))
    with pytest.raises(DataError, match=words):
        debian.data_members(deb, ".*")


@pytest.fixture
def kjv_deb(tmp_path, monkeypatch):
    """A dataset registered from a Debian package, its .deb built here and pinned."""
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "cache"))
    (tmp_path / "built").mkdir()
    built = build_deb(tmp_path / "built")

    def convert(deb: Path) -> str:
        from rnnkit.data.sources import archive_members

        return next(iter(archive_members(deb, r"usr/share/sword/.*\.txt").values())).decode()

    info = replace(registry.get_info("kjv"), name="kjv-deb-test", package="sword-text-kjv",
                   version="2.9-1", debian=True, archive="", convert=convert,
                   archive_sha256=hashlib.sha256(built.read_bytes()).hexdigest(),
                   size=len(VERSE), sha256=hashlib.sha256(VERSE.encode()).hexdigest())
    monkeypatch.setitem(registry._REGISTRY, info.name, info)
    return info, built


def test_apt_get_download_fetches_the_pinned_deb(kjv_deb, tmp_path, monkeypatch):
    info, built = kjv_deb
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    fake = bin_folder / "apt-get"  # what `apt-get download NAME=VERSION` does: the file in cwd
    fake.write_text(f"#!/bin/sh\n[ \"$1 $2\" = 'download sword-text-kjv=2.9-1' ] || exit 100\n"
                    f"cp {built} .\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    assert info.source == "Debian sword-text-kjv 2.9-1: " + info.member
    assert registry.fetch(info.name).read_text() == VERSE


def test_without_apt_the_error_names_the_file_and_where_to_put_it(kjv_deb, monkeypatch):
    info, built = kjv_deb
    monkeypatch.setattr(debian.shutil, "which", lambda name: None)
    folder = registry.cache_dir() / "debs"
    with pytest.raises(DataError) as caught:
        registry.fetch(info.name)
    message = str(caught.value)
    assert "\n" not in message and "no apt-get" in message
    assert "sword-text-kjv_2.9-1_<arch>.deb" in message and str(folder) in message
    assert info.archive_sha256 in message
    folder.mkdir(parents=True)
    (folder / built.name).write_bytes(built.read_bytes())  # the user did as told
    assert registry.fetch(info.name).read_text() == VERSE


def test_a_deb_that_is_not_the_pinned_one_is_refused_and_nothing_cached(kjv_deb, monkeypatch):
    info, built = kjv_deb
    monkeypatch.setattr(debian.shutil, "which", lambda name: None)
    folder = registry.cache_dir() / "debs"
    folder.mkdir(parents=True)
    other = build_deb(folder, "gz")  # same name, other bytes
    assert other.name == built.name
    with pytest.raises(DataError, match=rf"is not the pinned package: expected sha256 "
                       rf"{info.archive_sha256}, got [0-9a-f]{{64}} \(nothing cached\)"):
        registry.fetch(info.name)
    assert not (registry.cache_dir() / "kjv-deb-test.txt").exists()
