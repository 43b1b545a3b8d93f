"""Find, fetch and clean the books: Project Gutenberg ebooks by number, or plain-text files.

A source is an ebook number ("12") or a path to a .txt file, optionally with "@FROM..UNTIL":
the text then starts at the first line that begins with FROM and stops before the next
line that begins with UNTIL (either may be left empty), so matter by other hands can be
left out: "2147@THE UNPARALLELED ADVENTURES" (Vol. 1 of Poe's Raven Edition opens with
Lowell's and Willis's memoirs), "2148@..NOTES TO THIS VOLUME" (Griswold's endnotes).
Numbers are looked up in:
  1. the data folder (`--data-dir` or $WHOWROTE_DATA): pg<ID>.txt, <ID>-0.txt or <ID>.txt
  2. the user cache ($WHOWROTE_CACHE, default ~/.cache/whowrote/books)
  3. Project Gutenberg (unless $WHOWROTE_OFFLINE is set), downloaded with a timeout and retries, written atomically to the
     cache, its sha256 appended to the cache's MANIFEST.tsv.
Cleaning strips the BOM, CRLF and the Gutenberg header/footer/licence; typography and
proper names are then normalised by whowrote.text.normalise, as for any text the judge scores.

    whowrote data fetch 12 2147 && whowrote data verify --data-dir ../shared/corpora
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import WhowroteError
from ..files import atomic_write, cache_root

GUTENBERG_URLS = (
    "https://www.gutenberg.org/cache/epub/{id}/pg{id}.txt",
    "https://www.gutenberg.org/files/{id}/{id}-0.txt",
)

# Every START/END marker variant seen across Gutenberg's eras: "*** START OF THIS PROJECT
# GUTENBERG EBOOK X ***", "***START OF THE PROJECT GUTENBERG EBOOK", "*END*THE SMALL PRINT!"
# (the 1990s licence ends there and the text begins), "End of the Project Gutenberg EBook".
_START = re.compile(
    r"^\W*(start of (this|the) project gutenberg (e-?book|e-?text)|\*end\*the small print!)[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_END = re.compile(
    r"^\W*(end of (this|the) project gutenberg (e-?book|e-?text)|end of (the )?project gutenberg'?s?\b)[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_PRODUCED_BY = re.compile(r"\A\s*(produced by|prepared by|transcribed by)[^\n]*(\n[^\n]+)*\n\s*\n", re.IGNORECASE)

@dataclass
class Book:
    source: str  # as given: "12" or a path
    path: Path  # where the raw file was read from
    raw_sha256: str  # of the raw bytes, as Gutenberg serves them
    text: str  # cleaned
    had_markers: bool  # False: not a Gutenberg file, used whole


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_dir() -> Path:
    return cache_root() / "books"


def _candidates(folder: Path, ebook: str) -> list[Path]:
    return [folder / f"pg{ebook}.txt", folder / f"{ebook}-0.txt", folder / f"{ebook}.txt"]


def locate(source: str, data_dir: str | None = None, download: bool = True) -> Path:
    """Return a local path for `source`, downloading it to the cache if needed and allowed."""
    if not source.isdigit():
        path = Path(source).expanduser()
        if not path.is_file():
            raise WhowroteError(f"book file not found: {source}")
        return path
    folders = [Path(d) for d in (data_dir, os.environ.get("WHOWROTE_DATA")) if d] + [cache_dir()]
    download = download and not os.environ.get("WHOWROTE_OFFLINE")
    for folder in folders:
        for path in _candidates(folder, source):
            if path.is_file():
                return path
    if not download:
        raise WhowroteError(_missing_message(source, folders))
    return fetch(source, folders)


def _missing_message(ebook: str, searched: list[Path]) -> str:
    where = ", ".join(str(f) for f in searched)
    return (
        f"Gutenberg ebook #{ebook} is not available offline (looked in {where}) and could not "
        f"be downloaded: put pg{ebook}.txt in a folder and pass --data-dir FOLDER "
        f"(or set WHOWROTE_DATA)"
    )


def fetch(ebook: str, searched: list[Path] | None = None, retries: int = 3, timeout: float = 20.0) -> Path:
    """Download ebook `ebook` into the cache, atomically, and record its sha256. Only the
    download is retried; a cache that cannot be written (disk full, permissions) is its
    own error at once."""
    target_dir = cache_dir()
    data = _download(ebook, searched or [target_dir], retries, timeout)
    try:
        return _write_cache(target_dir, ebook, data)
    except OSError as exc:
        raise WhowroteError(f"Gutenberg ebook #{ebook} was downloaded but could not be written to the cache "
                            f"{target_dir}: {exc.strerror or exc} (free some space, or set WHOWROTE_CACHE)") from None


def _download(ebook: str, searched: list[Path], retries: int, timeout: float) -> bytes:
    last_error: Exception | None = None
    for attempt in range(retries):
        for url in GUTENBERG_URLS:
            try:
                req = urllib.request.Request(url.format(id=ebook), headers={"User-Agent": "whowrote"})
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return resp.read()
            except (urllib.error.URLError, OSError, TimeoutError) as exc:  # the network's errors only
                last_error = exc
        time.sleep(min(2**attempt, 5) if attempt + 1 < retries else 0)
    raise WhowroteError(f"{_missing_message(ebook, searched)} [last error: {last_error}]")


def _write_cache(folder: Path, ebook: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"pg{ebook}.txt"
    atomic_write(final, data)  # an interrupted download never leaves a half file that looks whole
    with open(folder / "MANIFEST.tsv", "a", encoding="utf-8") as fh:
        fh.write(f"{ebook}\t{final.name}\t{sha256_bytes(data)}\n")
    return final


def manifest(folder: Path | None) -> dict[str, dict]:
    """ebook id -> {"sha256", "title", "author", "year"} from a MANIFEST.tsv beside the books (the
    shared corpora's has a header; the cache's is id, file, sha256), or {} if there is none."""
    if not folder or not (Path(folder) / "MANIFEST.tsv").is_file():
        return {}
    out = {}
    with open(Path(folder) / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    header = rows[0] if rows and "sha256" in rows[0] else None
    for row in rows[1:] if header else rows:
        rec = dict(zip(header, row)) if header else {}
        hexes = [c for c in row if len(c) == 64 and all(ch in "0123456789abcdef" for ch in c.lower())]
        ids = [c.removeprefix("pg").removesuffix(".txt") for c in row]
        ids = [c for c in ids if c.isdigit()]
        if hexes and ids:
            out[ids[0]] = {"sha256": hexes[0].lower(), "title": rec.get("title", ""), "author": rec.get("author", ""),
                           "year": rec.get("year", "")}
    return out


def strip_gutenberg(text: str) -> tuple[str, bool]:
    """Remove the header before the START marker and the footer/licence from the END marker."""
    start = _START.search(text)
    end = _END.search(text, start.end() if start else 0)
    if not start and not end:
        return text, False
    body = text[start.end() if start else 0 : end.start() if end else len(text)]
    body = _PRODUCED_BY.sub("", body, count=1)
    return body, True


def clean(raw: str) -> tuple[str, bool]:
    """One raw Gutenberg file -> its body (no BOM, no CRLF, no header or licence) and whether
    it had Gutenberg markers. Typography and names are whowrote.text.normalise's, applied to
    training text and judged text alike."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    body, had_markers = strip_gutenberg(text)
    return body.strip(), had_markers


def read_text(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise WhowroteError(f"{path} is a binary file, not plain text")
    return data, decode(data, str(path))


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM); else Windows-1252, which old Gutenberg files and Word
    exports use (its curly quotes sit in bytes Latin-1 gives to control characters); else
    Latin-1, which decodes anything, so only warn."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        warnings.warn(f"{name} is not UTF-8; read as {'Windows-1252' if encoding == 'cp1252' else 'Latin-1'}", stacklevel=3)
        return text
    raise AssertionError("unreachable: latin-1 decodes every byte")


def split_source(source: str) -> tuple[str, str | None]:
    """"2147@THE GOLD-BUG" -> ("2147", "THE GOLD-BUG"); "12" -> ("12", None)."""
    base, sep, part = source.partition("@")
    return base.strip(), (part.strip() or None) if sep else None


def ebook_id(source: str) -> str:
    return split_source(source)[0]


def _line_starting(text: str, heading: str, path: Path, start: int = 0) -> int:
    match = re.compile(r"^[ \t]*" + re.escape(heading), re.MULTILINE).search(text, start)
    if not match:
        raise WhowroteError(f"{path} has no line starting with '{heading}' (named by its source's @FROM..UNTIL)")
    return match.start()


def _part(text: str, part: str, path: Path) -> str:
    """The text from the line starting with FROM to the line starting with UNTIL ("FROM..UNTIL")."""
    first, _, until = part.partition("..")
    start = _line_starting(text, first.strip(), path) if first.strip() else 0
    end = _line_starting(text, until.strip(), path, start + 1) if until.strip() else len(text)
    return text[start:end].strip()


def load(source: str, data_dir: str | None = None, download: bool = True) -> Book:
    base, part = split_source(source)
    path = locate(base, data_dir, download)
    data, raw = read_text(path)
    text, had_markers = clean(raw)
    if part:
        text = _part(text, part, path)
    if not had_markers:
        warnings.warn(f"{path} has no Project Gutenberg START/END markers; using the whole file", stacklevel=2)
    if not text.strip():
        raise WhowroteError(f"{path} holds no text after cleaning")
    return Book(source, path, sha256_bytes(data), text, had_markers)


def load_labels(sources: dict[str, list[str]], data_dir: str | None = None, download: bool = True) -> dict[str, list[Book]]:
    return {label: [load(s, data_dir, download) for s in srcs] for label, srcs in sources.items()}
