"""Turn what a user passes to `whowrote judge` into Records: text, files, folders, stdin, JSONL.

A positional argument is: `-` (standard input), an existing file, an existing folder (its
.txt files, sorted, recursively), or else literal text. An argument that looks like a path
(no spaces, and ending in .txt/.md/.jsonl/..., or starting with / ./ ../ ~) but does not
exist is a missing file, not text; "and/or" is text. `--jsonl F` reads one {"id": ..., "text": ..., other fields kept} per line.
Files are read in chunks, so a 1 GB file is never held in memory whole.

    whowrote judge --model runs/x chapter.txt poems/ "Once upon a midnight dreary"
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Iterable, Iterator

from .records import Record

CHUNK_CHARS = 1 << 20  # 1 Mi characters per read
_PATHLIKE = re.compile(r"^\S+$")
_PATH_SUFFIXES = (".txt", ".md", ".jsonl", ".json", ".text")


def stream_chunks(stream: io.TextIOBase) -> Iterator[str]:
    """Chunks that end on whitespace, so no word (and no token) is cut in two."""
    carry = ""
    while True:
        block = stream.read(CHUNK_CHARS)
        if not block:
            break
        block = carry + block
        cut = max(block.rfind(" "), block.rfind("\n"))
        if cut <= 0:
            carry = block
            continue
        carry = block[cut:]
        yield block[:cut]
    if carry:
        yield carry


def file_chunks(path: Path) -> Iterator[str]:
    """Stream a UTF-8 text file in chunks; raises UnicodeDecodeError/OSError as the judge reports."""
    with open(path, "rb") as raw:
        head = raw.read(8192)
        if b"\x00" in head:
            raise OSError("a binary file, not text")  # the judge prefixes the record's id
    with open(path, encoding="utf-8-sig", errors="strict") as fh:
        yield from stream_chunks(fh)


def _existing(arg: str) -> str | None:
    """'dir', 'file' or None; text with newlines or too long for a file name is never a path."""
    if "\n" in arg or len(arg) > 4096:
        return None
    try:
        p = Path(arg)
        return "dir" if p.is_dir() else "file" if p.is_file() else None
    except OSError:  # e.g. a name too long for the file system: it is text
        return None


def _looks_like_path(arg: str) -> bool:
    return bool(_PATHLIKE.match(arg)) and (arg.lower().endswith(_PATH_SUFFIXES) or arg.startswith(("/", "./", "../", "~")))


def file_record(path: Path, rid: str | None = None) -> Record:
    if not path.is_file():
        return Record(rid or str(path), error=f"{path}: no such file")
    return Record(rid or str(path), file_chunks(path), {"source": str(path)})


def records_from_args(args: Iterable[str], stdin=None) -> Iterator[Record]:
    for n, arg in enumerate(args):
        if arg == "-":
            yield Record("stdin", stream_chunks(stdin or sys.stdin), {"source": "stdin"})
        elif not arg.strip():
            yield Record(f"text{n + 1}", error=f"text{n + 1}: empty text (nothing but whitespace)")
        elif _existing(arg) == "dir":
            root = Path(arg)
            files = sorted(p for p in root.rglob("*.txt")
                           if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
            if not files:
                yield Record(arg, error=f"{arg}: folder holds no .txt files")
            yield from (file_record(p) for p in files)
        elif _existing(arg) == "file" or _looks_like_path(arg):
            yield file_record(Path(arg))
        else:
            yield Record(f"text{n + 1}", [arg], {"source": "argument"})


def records_from_jsonl(lines: Iterable[str], name: str = "jsonl", first: int = 1) -> Iterator[Record]:
    """One Record per line (numbered from `first`); a malformed line becomes an error record, the rest go on."""
    for n, line in enumerate(lines, start=first):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Record(f"{name}:{n}", error=f"{name} line {n}: not UTF-8 (byte {exc.start})")
                continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield Record(f"{name}:{n}", error=f"{name} line {n}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            yield Record(f"{name}:{n}", error=f"{name} line {n}: needs an object with a string \"text\" field")
            continue
        rid = str(obj.get("id", f"{name}:{n}"))
        extra = {k: v for k, v in obj.items() if k not in ("text", "id")}
        yield Record(rid, [obj["text"]], extra)


def jsonl_source(arg: str, stdin=None) -> Iterator[Record]:
    if arg == "-":
        yield from records_from_jsonl(stdin or sys.stdin, "stdin")
        return
    path = Path(arg)
    if not path.is_file():
        yield Record(arg, error=f"{arg}: no such file")
        return
    with open(path, "rb") as fh:  # bytes: a bad line is reported alone, the others still read
        yield from records_from_jsonl(fh, path.name)
