"""Does today's normalisation give a run's books the text that run was trained on? Every
training and held-out book of the run's config, normalised with the spec its model folder
records and with the spec today's defaults give the same config, compared book by book:
which books differ, in how many spans, with the first few side by side.

This is what makes "the main command trains on the README run's text" a checked claim
after a normalisation rule is added or a default changed, and what shows which books a
new rule touches before anyone retrains.

    .venv/bin/python benchmarks/same_text.py runs/authors-X
    .venv/bin/python benchmarks/same_text.py runs/authors-X --set typography=2 --set contractions=true
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import run_benchmark  # noqa: E402


def spec_with(spec, settings: list[str]):
    """`spec` with NAME=VALUE settings applied, each value read as its field's type."""
    from whowrote.config import coerce_like

    fields = [f.name for f in dataclasses.fields(spec)]
    changes = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or name not in fields:
            sys.exit(f"--set {item!r}: expected NAME=VALUE with NAME one of {', '.join(fields)}")
        changes[name] = coerce_like(getattr(spec, name), value, f"--set {name}")
    return dataclasses.replace(spec, **changes)


def changed_spans(a: str, b: str) -> list[tuple[str, str]]:
    """The spans where two texts differ, as (a's, b's), compared word by word."""
    wa, wb = a.split(" "), b.split(" ")
    matcher = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    return [(" ".join(wa[i1:i2]), " ".join(wb[j1:j2]))
            for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a run folder (its config.json and model/whowrote.json)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="compare against today's defaults with this field changed (repeatable)")
    ap.add_argument("--show", type=int, default=3, help="differing spans shown per book")
    args = ap.parse_args()

    from whowrote.config import load_run_config
    from whowrote.data.prepare import normalise_spec
    from whowrote.model.bert import load_tokenizer
    from whowrote.text import books
    from whowrote.text.normalise import normalise
    from whowrote.training.runfolder import model_spec

    run = Path(args.run)
    config = load_run_config(run)
    recorded = model_spec(run / "model")
    today = spec_with(normalise_spec(config, load_tokenizer(config.model)), args.set)
    print(f"recorded: {recorded.to_dict()}\ntoday:    {today.to_dict()}")
    differing = total = 0
    for role, sources in (("train", config.sources), ("held-out", config.heldout)):
        for label, items in sources.items():
            for source in items:
                text = books.load(source, config.data_dir, download=False).text
                old, new = normalise(text, recorded, track=False).text, normalise(text, today, track=False).text
                total += 1
                if old == new:
                    print(f"{role:8} {label:8} {source}: same")
                    continue
                differing += 1
                spans = changed_spans(old, new)
                print(f"{role:8} {label:8} {source}: DIFFERENT, {len(spans)} spans")
                for a, b in spans[: args.show]:
                    print(f"    {a[:60]!r} -> {b[:60]!r}")
    print(f"books differing: {differing} of {total}")


if __name__ == "__main__":
    run_benchmark(main)
