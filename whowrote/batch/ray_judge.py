"""`whowrote judge --engine ray`: the local judge's verdicts for millions of records, on Ray Data.

The driver checks the model and the inputs, cuts the inputs into blocks (`blocks.py`), and
hands each block not yet written to a pool of actors that each load the model once
(`Dataset.map_batches` with `ActorPoolStrategy`). An actor reads its block, scores it with the
same `Judge.score_records` the local engine runs, and writes it as one part (`parts.py`), so a
rerun of a killed job skips what is written. The model travels in Ray's object store, so
cluster nodes need whowrote installed, not the run folder; inputs and --output must be paths
every node sees (a shared disk, or URIs such as s3://).

    whowrote judge --engine ray --model runs/x --output scored/ samples.jsonl corpus/
    whowrote judge --engine ray --address auto --model runs/x --output s3://b/scored s3://b/samples/
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from pathlib import Path

from ..errors import WhowroteError
from ..judge.loading import model_folder
from ..layout import HF_CONFIG
from .blocks import Block, plan, read
from .parts import Output

SHOWN_ERRORS = 20


def model_files(folder: Path) -> dict[str, bytes]:
    """Every file of a model folder (small: MiniLM's is ~90 MB), to ship through the object store."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fingerprint(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name, data in files.items():
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


class BlockJudge:
    """A Ray Data actor: loads the model once, then judges and writes one block per call."""

    def __init__(self, model: list, output: str, fmt: str, options: dict, threads: int):
        import tempfile

        import ray
        import torch

        from ..judge.core import Judge

        torch.set_num_threads(threads)
        folder = Path(tempfile.mkdtemp(prefix="whowrote-model-"))
        for name, data in ray.get(model[0]).items():  # a list keeps Ray from resolving the ref for us
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        self.judge = Judge.load(folder, batch_size=options["batch_size"], stride=options["stride"],
                                precision=options["precision"])
        self.details = options["windows"]
        self.output = Output(output, fmt)

    def __call__(self, batch: dict) -> dict:
        out = {"block": [], "records": [], "errors": [], "messages": []}
        for text in batch["block"]:
            block = Block.from_json(str(text))
            rows = [s.to_dict() for s in self.judge.score_records(read(block), details=self.details)]
            self.output.write_part(block.index, rows)
            errors = [r["error"] for r in rows if "error" in r]
            out["block"].append(block.index)
            out["records"].append(len(rows))
            out["errors"].append(len(errors))
            out["messages"].append("\n".join(errors[:3]))
        return out


def _start_ray(address: str | None):
    import ray

    if ray.is_initialized():
        return False
    # Ray Data's INFO and progress notes, and the core worker's note on actor restarts, on
    # every run: not the user's concern (a failure still reaches them as an exception)
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    kwargs = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    ray.init(address=address, **kwargs) if address else ray.init(**kwargs)
    return True


def judge_with_ray(model: str, inputs: list[str], output: str, *, jsonl: list[str] = (), fmt: str = "jsonl",
                   address: str | None = None, actors: int | None = None, actor_cpus: float = 1,
                   block_records: int = 1000, batch_size: int = 32, stride: int | None = None,
                   precision: str = "auto", details: bool = False, progress: bool = True) -> dict:
    """Judge every input into `output`; returns the summary written to `_done.json`."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise WhowroteError("judge --engine ray needs Ray Data: pip install 'whowrote[ray]'") from None
    if actors is not None and actors < 1:
        raise WhowroteError("judge: --actors must be at least 1")
    if actor_cpus <= 0:
        raise WhowroteError("judge: --actor-cpus must be positive")
    files = model_files(model_folder(model))  # a missing model fails here, before Ray starts
    if HF_CONFIG not in files:
        raise WhowroteError(f"{model}: not a model folder (no config.json)")
    blocks = plan(inputs, list(jsonl), block_records)
    out = Output(output, fmt)
    options = {"batch_size": batch_size, "stride": stride, "precision": precision, "windows": details}
    job = {"inputs": list(inputs), "jsonl": list(jsonl), "block_records": block_records, "blocks": len(blocks),
           "model": fingerprint(files), "stride": stride, "precision": precision, "windows": details}
    todo = [b for b in blocks if b.index not in out.start(job)]
    if len(todo) < len(blocks):
        print(f"resuming: {len(blocks) - len(todo)} of {len(blocks)} blocks already written", file=sys.stderr)
    started, t0 = time.perf_counter(), time.perf_counter()
    summary = {"blocks": len(blocks), "blocks_this_run": len(todo), "records_this_run": 0, "errors_this_run": 0}
    messages: list[str] = []
    if todo:
        own_runtime = _start_ray(address)
        try:
            cpus = ray.cluster_resources().get("CPU", 1)
            pool = min(len(todo), actors or max(1, int(cpus // actor_cpus)))
            ray.data.DataContext.get_current().enable_progress_bars = progress
            ds = ray.data.from_items([{"block": b.to_json()} for b in todo], override_num_blocks=len(todo))
            ds = ds.map_batches(BlockJudge, batch_size=1, num_cpus=actor_cpus,
                                compute=ray.data.ActorPoolStrategy(size=pool),
                                fn_constructor_kwargs=dict(model=[ray.put(files)], output=output, fmt=fmt,
                                                           options=options, threads=max(1, int(actor_cpus))))
            t0 = time.perf_counter()
            for row in ds.iter_rows():
                summary["records_this_run"] += int(row["records"])
                summary["errors_this_run"] += int(row["errors"])
                if row["messages"] and len(messages) < SHOWN_ERRORS:
                    messages += str(row["messages"]).split("\n")
        except Exception as exc:
            if isinstance(exc, WhowroteError):
                raise
            written = len(out.done_blocks())
            raise WhowroteError(f"the Ray job stopped ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                                f"{written} of {len(blocks)} blocks are written: rerun the same command to finish") from None
        finally:
            if own_runtime:
                ray.shutdown()
        summary["actors"] = pool
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["judging_seconds"] = round(time.perf_counter() - t0, 2)
    summary["messages"] = messages[:SHOWN_ERRORS]
    out.finish(summary)
    return summary
