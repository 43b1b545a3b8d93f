"""A batch job's inputs cut into blocks of records, the unit `whowrote judge --engine ray`
hands to an actor, writes as one output part and skips when it reruns.

Inputs are files or folders, local paths or any URI `pyarrow.fs` opens (s3://, gs://, hdfs://):
JSONL (.jsonl/.ndjson/.json, or any file given with --jsonl) in blocks of lines; Parquet
(.parquet) in blocks of rows, `text` column required, `id` and the other columns carried;
text files (.txt/.md/.text, and any other file named alone) one record each, a few files a
block. A record's id and fields are those the local judge gives the same input.

    python -m whowrote.batch.blocks samples.jsonl corpus/   # prints the plan
"""

from __future__ import annotations

import codecs
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

import numpy as np

from ..errors import WhowroteError
from ..judge.inputs import records_from_jsonl, stream_chunks
from ..judge.records import Record

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")
TEXT_SUFFIXES = (".txt", ".md", ".text")
TEXT_BLOCK_BYTES = 8 << 20  # text files per block: until 8 MiB, so a block of books stays small
READ_BYTES = 8 << 20


@dataclass(frozen=True)
class Block:
    """One unit of work: rows start..stop of one JSONL (bytes) or Parquet (rows) file, or whole text files."""

    index: int
    kind: str  # "jsonl" | "parquet" | "text"
    files: tuple[str, ...]  # where to read (a path or URI)
    shown: tuple[str, ...]  # as the local judge names them (ids of text files, `name:line` prefixes)
    start: int = 0
    stop: int = 0
    first_line: int = 1  # jsonl: the number of the block's first line

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Block":
        d = json.loads(text)
        return cls(**{**d, "files": tuple(d["files"]), "shown": tuple(d["shown"])})


def filesystem(location: str):
    """(pyarrow filesystem, path inside it) for a local path or a URI."""
    from pyarrow import fs

    if "://" in location:
        try:
            return fs.FileSystem.from_uri(location)
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError by scheme
            raise WhowroteError(f"{location}: cannot open ({exc})") from None
    return fs.LocalFileSystem(), str(Path(location).expanduser().resolve())


def _kind(name: str, jsonl: bool) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if jsonl or suffix in JSONL_SUFFIXES:
        return "jsonl"
    return "parquet" if suffix in PARQUET_SUFFIXES else "text"


def input_files(inputs: list[str], jsonl: list[str] = ()) -> list[tuple[str, str, str]]:
    """(location, shown name, kind) of every file, folders listed recursively and sorted; an
    input that is not there is an error before any work (at scale a typo should not cost a job)."""
    from pyarrow import fs as pafs

    out = []
    for arg, forced in [(a, False) for a in inputs] + [(j, True) for j in jsonl]:
        if arg == "-":
            raise WhowroteError("judge --engine ray reads files and folders; standard input goes to the local engine")
        filesys, path = filesystem(arg)
        info = filesys.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise WhowroteError(f"{arg}: no such file or folder (--engine ray judges files; "
                                "literal text goes to the local engine)")
        if info.type != pafs.FileType.Directory:
            out.append((arg, arg, _kind(arg, forced)))
            continue
        found = [i for i in filesys.get_file_info(pafs.FileSelector(path, recursive=True))
                 if i.type == pafs.FileType.File and PurePosixPath(i.path).suffix.lower() in
                 JSONL_SUFFIXES + PARQUET_SUFFIXES + TEXT_SUFFIXES
                 and not any(p.startswith(".") for p in PurePosixPath(i.path[len(path):]).parts)]
        if not found:
            raise WhowroteError(f"{arg}: folder holds no .jsonl, .parquet or .txt files")
        for i in sorted(found, key=lambda i: i.path):
            rel = i.path[len(path):].lstrip("/")
            location = arg.rstrip("/") + "/" + rel if "://" in arg else str(Path(arg) / rel)
            out.append((location, location, _kind(rel, forced)))
    return out


def _line_starts(location: str, every: int) -> tuple[list[tuple[int, int]], int]:
    """Byte offsets and line numbers of every `every`-th line's start, and the file's size."""
    filesys, path = filesystem(location)
    bounds, line, offset = [(0, 1)], 1, 0
    with filesys.open_input_stream(path) as f:
        while chunk := f.read(READ_BYTES):
            newlines = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
            numbers = line + 1 + np.arange(len(newlines))  # the line each newline starts
            for k in np.flatnonzero((numbers - 1) % every == 0):
                bounds.append((offset + int(newlines[k]) + 1, int(numbers[k])))
            line += len(newlines)
            offset += len(chunk)
    return [b for b in bounds if b[0] < offset] or [(0, 1)], offset


def plan(inputs: list[str], jsonl: list[str] = (), block_records: int = 1000) -> list[Block]:
    """Every input cut into blocks, in input order; the same inputs give the same plan."""
    import pyarrow.parquet as pq

    if block_records < 1:
        raise WhowroteError("judge: --block-records must be at least 1")
    blocks: list[Block] = []
    texts: list[tuple[str, str]] = []
    text_bytes = 0

    def close_texts():
        nonlocal text_bytes
        if texts:
            blocks.append(Block(len(blocks), "text", tuple(t[0] for t in texts), tuple(t[1] for t in texts)))
            texts.clear()
            text_bytes = 0

    for location, shown, kind in input_files(inputs, jsonl):
        if kind == "text":
            filesys, path = filesystem(location)
            texts.append((location, shown))
            text_bytes += filesys.get_file_info(path).size or 0
            if len(texts) >= block_records or text_bytes >= TEXT_BLOCK_BYTES:
                close_texts()
            continue
        close_texts()
        if kind == "jsonl":
            bounds, size = _line_starts(location, block_records)
            for (start, first), (stop, _) in zip(bounds, bounds[1:] + [(size, 0)]):
                blocks.append(Block(len(blocks), kind, (location,), (shown,), start, stop, first))
        else:
            filesys, path = filesystem(location)
            try:
                rows = pq.ParquetFile(filesys.open_input_file(path)).metadata.num_rows
            except Exception as exc:
                raise WhowroteError(f"{shown}: not a readable Parquet file ({exc})") from None
            for start in range(0, max(rows, 1), block_records):
                blocks.append(Block(len(blocks), kind, (location,), (shown,), start, min(start + block_records, rows)))
    close_texts()
    return blocks


def _text_chunks(location: str) -> Iterator[str]:
    """A text file streamed as the local judge streams it: UTF-8 (BOM dropped), binary refused."""
    filesys, path = filesystem(location)
    with filesys.open_input_stream(path) as f:
        if b"\x00" in f.read(8192):
            raise OSError("a binary file, not text")
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")

    class _Text:  # the read(n) -> str that `stream_chunks` reads
        def __init__(self, stream):
            self.stream = stream

        def read(self, n):
            while True:
                raw = self.stream.read(n)
                text = decoder.decode(raw, final=not raw)
                if text or not raw:
                    return text

    with filesys.open_input_stream(path) as f:
        yield from stream_chunks(_Text(f))


def _parquet_records(block: Block) -> Iterator[Record]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    filesys, path = filesystem(block.files[0])
    name = PurePosixPath(block.shown[0]).name
    pf = pq.ParquetFile(filesys.open_input_file(path))
    groups, first, row = [], None, 0
    for g in range(pf.num_row_groups):  # only the row groups that hold the block's rows
        n = pf.metadata.row_group(g).num_rows
        if row + n > block.start and row < block.stop:
            groups.append(g)
            first = row if first is None else first
        row += n
    table = pf.read_row_groups(groups) if groups else pa.table({})
    rows = table.slice(block.start - (first or 0), block.stop - block.start).to_pylist()
    for n, obj in enumerate(rows, start=block.start + 1):
        if not isinstance(obj.get("text"), str):
            yield Record(f"{name}:{n}", error=f"{name} row {n}: needs a string \"text\" column")
            continue
        rid = str(obj["id"]) if obj.get("id") is not None else f"{name}:{n}"
        yield Record(rid, [obj["text"]], {k: v for k, v in obj.items() if k not in ("text", "id")})


def read(block: Block) -> Iterator[Record]:
    """The block's records, in order; a bad row or file is an error record, never an exception."""
    if block.kind == "text":
        for location, shown in zip(block.files, block.shown):
            yield Record(shown, _text_chunks(location), {"source": shown})
        return
    try:
        if block.kind == "parquet":
            yield from _parquet_records(block)
            return
        filesys, path = filesystem(block.files[0])
        with filesys.open_input_file(path) as f:
            f.seek(block.start)
            data = f.read(block.stop - block.start)
    except Exception as exc:  # a file gone or damaged since planning: the block says so
        yield Record(block.shown[0], error=f"{block.shown[0]}: cannot read ({exc})")
        return
    yield from records_from_jsonl(data.split(b"\n"), PurePosixPath(block.shown[0]).name, first=block.first_line)


if __name__ == "__main__":
    for b in plan(sys.argv[1:]):
        print(b.to_json())
