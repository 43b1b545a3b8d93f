"""Modern prose, which no book in training or calibration resembles: does the judge say
"neither"? Sixteen passages of 64-130 words written for this check (an email, a product
review, news, sport, a recipe, software documentation, an abstract, a cover letter, a blog,
travel writing, a history textbook, a notice, a children's story, a short story, a thriller,
an encyclopedia article; `whowrote/evaluation/modern_prose.jsonl`, no book text; `whowrote
validate` counts them too, into validity.json's `modern_prose`). Every one is
by an author the judge never saw, so every label but "neither" is a confident mistake of
the kind a generator's evaluator would meet first. The background authors in training are
all of the 19th century; this measures how far their "neither" reaches.

    .venv/bin/python benchmarks/modern_prose.py runs/authors-X --readme docs/validation.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import publish, run_benchmark  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run folders to compare")
    ap.add_argument("--readme", help="write the table into this README's bench-modern section")
    args = ap.parse_args()

    from whowrote import Judge
    from whowrote.evaluation.validate import modern_prose

    lines = ["Passages of modern prose (`whowrote/evaluation/modern_prose.jsonl`), each judged whole.", "",
             "| run | passages | flagged \"neither\" | labels given | given an author with P(neither) < 0.2 |",
             "|---|---|---|---|---|"]
    for run in args.runs:
        m = modern_prose(Judge.load(run))
        lines.append(f"| `{Path(run).name}` | {m['passages']} | {m['neither']:.2f} | "
                     f"{', '.join(f'{k} {v}' for k, v in sorted(m['labels'].items()))} | {', '.join(m['confident']) or '-'} |")
    publish("\n".join(lines), args.readme, "bench-modern")


if __name__ == "__main__":
    run_benchmark(main)
