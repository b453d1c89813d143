"""Data that only Debian's archive ships: pinned ``.deb`` files, fetched and unpacked in Python.

``apt-get download NAME=VERSION`` fetches the package file into a folder (no root, nothing
installed, no maintainer script run); its sha256 must be the pinned one before it is opened.
A ``.deb`` is an ``ar`` archive holding ``debian-binary``, ``control.tar.*`` and
``data.tar.*`` (gz, xz or bz2; zstd where the ``zstandard`` module is installed):
:func:`data_members` reads the files of ``data.tar.*`` without dpkg. On a machine without
apt, a ``.deb`` put by hand in ``$RNNKIT_DATA/debs/`` is used (the error says which file and
where). A dataset made of several packages gets each in its own folder (:func:`download_all`).
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from rnnkit.errors import DataError

AR_MAGIC = b"!<arch>\n"


def ar_members(data: bytes, name: str = "the .deb") -> dict[str, bytes]:
    """The members of an ``ar`` archive (the common format, as dpkg writes it)."""
    if not data.startswith(AR_MAGIC):
        raise DataError(f"{name} is not a Debian package (no ar header)")
    members, offset = {}, len(AR_MAGIC)
    while offset < len(data):
        if offset + 60 > len(data):
            if data[offset:].strip(b"\n"):
                raise DataError(f"{name} is truncated (a member header is cut at byte {offset})")
            break
        header = data[offset:offset + 60]
        member = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise DataError(f"{name} has a damaged ar header at byte {offset}") from None
        start = offset + 60
        if start + size > len(data):
            raise DataError(f"{name} is truncated (member {member!r} needs {size} bytes)")
        members[member] = data[start:start + size]
        offset = start + size + (size % 2)  # members are 2-byte aligned
    return members


def _data_tar(members: dict[str, bytes], name: str) -> tarfile.TarFile:
    for member, payload in members.items():
        if member.startswith("data.tar"):
            if member.endswith(".zst"):
                try:
                    import zstandard
                except ImportError:
                    raise DataError(f"{name} compresses its files with zstd; pip install "
                                    "zstandard to read it") from None
                payload = zstandard.ZstdDecompressor().decompressobj().decompress(payload)
            try:
                return tarfile.open(fileobj=io.BytesIO(payload))
            except (tarfile.TarError, OSError, EOFError) as bad:
                raise DataError(f"{name}: {member} is damaged ({bad})") from None
    raise DataError(f"{name} holds no data.tar member; it is not a Debian binary package")


def data_members(deb: Path, pattern: str) -> dict[str, bytes]:
    """The files of ``deb``'s ``data.tar.*`` whose path (without a leading ``./``) matches
    ``pattern`` (a regex, full match), sorted by path."""
    regex = re.compile(pattern)
    found = {}
    with _data_tar(ar_members(deb.read_bytes(), deb.name), deb.name) as tarred:
        for member in tarred.getmembers():
            path = member.name.removeprefix("./")
            if member.isfile() and regex.fullmatch(path):
                handle = tarred.extractfile(member)
                if handle is not None:
                    found[path] = handle.read()
    return dict(sorted(found.items()))


def download(package: str, version: str, sha256: str, dest: Path, by_hand: Path) -> Path:
    """The pinned ``package=version`` .deb in ``dest`` (or found in ``by_hand``), checked
    against ``sha256``; a DataError says what to do where apt is missing or fails."""
    hand = sorted(by_hand.glob(f"{package}_{version.replace(':', '%3a')}_*.deb")) + \
        sorted(by_hand.glob(f"{package}_{version.split(':')[-1]}_*.deb"))
    if hand:
        deb = hand[0]
    elif shutil.which("apt-get") is None:
        raise DataError(f"this machine has no apt-get to fetch the Debian package {package} "
                        f"{version}: download {package}_{version.split(':')[-1]}_<arch>.deb "
                        f"(sha256 {sha256}) from a Debian mirror and put it in {by_hand}")
    else:
        try:
            done = subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=dest,
                                  capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise DataError(f"apt-get download {package}={version} took over 15 minutes; "
                            "check the network") from None
        debs = sorted(dest.glob("*.deb"))
        if done.returncode != 0 or len(debs) != 1:
            said = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            reason = said[-1].removeprefix("E: ") if said else f"exit code {done.returncode}"
            raise DataError(f"apt-get could not download {package}={version} ({reason}); "
                            f"run apt-get update, or put the .deb in {by_hand}")
        deb = debs[0]
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if digest != sha256:
        raise DataError(f"{deb.name} is not the pinned package: expected sha256 {sha256}, got "
                        f"{digest} (nothing cached)")
    return deb


def download_all(debs: tuple[tuple[str, str, str], ...], dest: Path, by_hand: Path) -> Path:
    """``dest``, holding each pinned ``(package, version, sha256)`` of ``debs`` as
    ``dest/PACKAGE/*.deb`` (see :func:`download`; one found by hand is copied there)."""
    for package, version, sha256 in debs:
        folder = dest / package
        folder.mkdir(parents=True, exist_ok=True)
        deb = download(package, version, sha256, folder, by_hand)
        if deb.parent != folder:
            shutil.copyfile(deb, folder / deb.name)
    return dest


def package_deb(folder: Path, package: str) -> Path:
    """The ``.deb`` of ``package`` that :func:`download_all` put in ``folder``."""
    debs = sorted((folder / package).glob("*.deb"))
    if len(debs) != 1:
        raise DataError(f"{folder} holds {len(debs)} .deb files of {package}, expected one; "
                        "report it to rnnkit")
    return debs[0]
