"""The output folder of a batch job (`whowrote judge --engine ray --output DIR`): one part file
per block, written whole or not at all, and the job's description, so a rerun skips what is done.

    DIR/_job.json            inputs, blocks, model and options; a rerun must match it
    DIR/part-000000.jsonl    the records of block 0, as `whowrote judge --json` prints them
    DIR/_done.json           written last: records, errors and seconds (its absence: not finished)

A part is written under a hidden temporary name and moved into place, so a killed job leaves
either a whole part or a temporary file the next run deletes. Parts in name order are the
records in input order. Local paths or any URI `pyarrow.fs` writes to.

    python -c "from whowrote.batch.parts import Output; print(Output('out').done_blocks())"
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import PurePosixPath

from ..errors import WhowroteError
from .blocks import filesystem

FORMATS = ("jsonl", "parquet")
JOB = "_job.json"
DONE = "_done.json"
PART_PREFIX = "part-"
TEMP_PREFIX = ".tmp-"


class Output:
    def __init__(self, location: str, fmt: str = "jsonl"):
        if fmt not in FORMATS:
            raise WhowroteError(f"judge: --format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        self.location, self.format = location, fmt
        self.fs, self.root = filesystem(location)

    def _path(self, name: str) -> str:
        return str(PurePosixPath(self.root) / name)

    def part_name(self, index: int) -> str:
        return f"{PART_PREFIX}{index:06d}.{self.format}"

    def _names(self) -> list[str]:
        from pyarrow import fs as pafs

        info = self.fs.get_file_info(self.root)
        if info.type == pafs.FileType.NotFound:
            return []
        if info.type != pafs.FileType.Directory:
            raise WhowroteError(f"{self.location} is a file; --output takes a folder")
        return [PurePosixPath(i.path).name for i in self.fs.get_file_info(pafs.FileSelector(self.root))]

    def start(self, job: dict) -> set[int]:
        """Make the folder, check it holds this job (or nothing), drop temporary files left by a
        killed run; returns the blocks already written."""
        names = self._names()
        if JOB in names:
            with self.fs.open_input_stream(self._path(JOB)) as f:
                previous = json.loads(f.read())
            if previous != job:
                changed = sorted(k for k in set(job) | set(previous) if job.get(k) != previous.get(k))
                raise WhowroteError(f"{self.location} holds the output of another job (its {', '.join(changed)} "
                                    "differ): give a new --output folder, or empty this one")
        elif any(n.startswith(PART_PREFIX) for n in names):
            raise WhowroteError(f"{self.location} holds parts but no {JOB}: give a new --output folder")
        self.fs.create_dir(self.root, recursive=True)
        for n in names:
            if n.startswith(TEMP_PREFIX):
                self.fs.delete_file(self._path(n))
        if JOB not in names:
            self._write(JOB, json.dumps(job, indent=1).encode())
        return self.done_blocks()

    def done_blocks(self) -> set[int]:
        ends = f".{self.format}"
        return {int(n[len(PART_PREFIX):-len(ends)]) for n in self._names()
                if n.startswith(PART_PREFIX) and n.endswith(ends)}

    def _write(self, name: str, data: bytes) -> None:
        temp = self._path(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{name}")
        with self.fs.open_output_stream(temp) as f:
            f.write(data)
        self.fs.move(temp, self._path(name))  # a rename on a local disk: the part appears whole

    def write_part(self, index: int, rows: list[dict]) -> None:
        if self.format == "jsonl":
            data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode()
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns = list(dict.fromkeys(k for r in rows for k in r))  # an error record lacks probs: all columns, nulls where absent
            sink = io.BytesIO()
            pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in rows]), sink)
            data = sink.getvalue()
        self._write(self.part_name(index), data)

    def finish(self, summary: dict) -> None:
        self._write(DONE, json.dumps(summary, indent=1).encode())

    def records(self) -> list[dict]:
        """Every record written, in input order (for tests and small jobs)."""
        out = []
        for n in sorted(n for n in self._names() if n.startswith(PART_PREFIX)):
            if self.format == "jsonl":
                with self.fs.open_input_stream(self._path(n)) as f:
                    out += [json.loads(line) for line in f.read().decode().splitlines() if line]
            else:
                import pyarrow.parquet as pq

                out += pq.read_table(self.fs.open_input_file(self._path(n))).to_pylist()
        return out
