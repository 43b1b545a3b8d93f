"""What a judge of style must reach, and whether a run reaches it: the goals at a glance.

Each goal is a bound on a number the run folder already holds (report.json's works and
authors never trained on, validity.json's probes and seeds). `goal_text` is what
validity.json stores beside each probe; `goals_table` is the table the model card and
`whowrote validate --readme` open with: every goal, the run's figure, met or not, and with
other seeds of the run (`validate --seeds`) each seed's figure and how many meet it. A word-order
or stuffing probe with figures by author is met only where each author meets it. Goals
marked "ours" are this project's, the rest the issue's (issue 7: a judge of style).

    python -m whowrote.evaluation.goals docs/run    # a run folder, or any folder with report.json, validity.json
    python -m whowrote.evaluation.goals runs/authors-XXXX    # with its seeds/seed1, seed2 ... as columns
"""

from __future__ import annotations

from ..errors import WhowroteError
from ..layout import RunFiles, read_json

UNSEEN_MARKOV = "Markov order 1, works never trained on"  # validity.json "order": chains of the held-out passages
LOOPED = "one sentence looped"  # validity.json "order": other authors' passages, a sentence over and over
# probe (validity.json "probes", or "seeds") -> ((field, comparison, bound), ...)
PROBE_GOALS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "names -> other author": (("changed", "<=", 0.02), ("mean_shift", "within ±", 0.05)),
    "names -> neutral": (("accuracy_after", ">=", 0.95),),
    "typos 5%": (("changed", "<=", 0.05),),
    "lower-case": (("changed", "<=", 0.05),),
    "look-alikes, invisible 10%": (("changed", "<=", 0.05),),  # ours
    "another edition's typesetting": (("changed", "<=", 0.02),),  # ours: the normalisation should undo a reprint
    "words of another author 5%": (("changed", "<=", 0.05),),  # ours, as for typos
    "seeds": (("agreement", ">=", 0.95),),
    # word order and keyword stuffing (validity.json "order"): a bag of an author's words is not his style
    "shuffled words": (("given_to_author", "<=", 0.20),),
    "keywords stuffed 10%": (("given_to_author", "<=", 0.10),),
    "Markov order 1": (("mean_s", "<=", 0.20),),
    UNSEEN_MARKOV: (("mean_s", "<=", 0.20),),  # ours: the same of chains no check was fitted on
    LOOPED: (("rise", "<=", 0.05),),  # ours: repetition is no style; it must not send more of them to an author
}
MARKOV_ORDERS = (1, 2, 3, 4)  # validity.json "order": "Markov order K" for each
OURS = {"look-alikes, invisible 10%", "another edition's typesetting", "words of another author 5%", UNSEEN_MARKOV, LOOPED}
_WORDS = {"changed": "changed", "mean_shift": "shift", "accuracy_after": "accuracy", "agreement": "agreement",
          "given_to_author": "given to the author", "mean_s": "mean S",
          "rise": "rise in the share given to an author"}
# report.json "unseen": at the run's window length, authors never seen flagged and each author's unseen passages
UNSEEN_FLAGGED, OWN_FLAGGED, OWN_LABELLED, UNSEEN_ECE = 0.90, 0.05, 0.90, 0.05


def goal_text(probe: str) -> str:
    """"changed <= 0.02, shift within ±0.05": the goal as validity.json states it ("" for none)."""
    return ", ".join(f"{_WORDS[field]} {op}{'' if op.endswith('±') else ' '}{bound:.2f}"
                     for field, op, bound in PROBE_GOALS.get(probe, ()))


def _meets(value: float, op: str, bound: float) -> bool:
    return abs(value) <= bound if op == "within ±" else (value <= bound if op == "<=" else value >= bound)


def _author_figure(author: str, row: dict, field: str) -> str:
    """"alice 0.062", and beside a stuffed share the same passages' as written: "(0.100 as written)"."""
    written = f" ({row['as_written']:.3f} as written)" if "as_written" in row else ""
    return f"{author} {row[field]:.3f}{written}"


def goal_rows(report: dict, validity: dict) -> list[tuple[str, str, str, bool]]:
    """(goal, bound, the run's figure, met) for each goal the run has a figure for."""
    rows = []
    per_label = (report.get("unseen") or {}).get("per_label", {})
    authors = [lab for lab in per_label if lab != "neither"]
    if "neither" in per_label:
        v = per_label["neither"]["neither"]
        rows.append(("authors never seen flagged \"neither\"", f">= {UNSEEN_FLAGGED:.2f}", f"{v:.3f}", v >= UNSEEN_FLAGGED))
        worst = max(per_label[a]["neither"] for a in authors)
        rows.append(("each author's unseen passages flagged \"neither\"", f"<= {OWN_FLAGGED:.2f}",
                     ", ".join(f"{a} {per_label[a]['neither']:.3f}" for a in authors), worst <= OWN_FLAGGED))
    if authors:
        rows.append(("each author's unseen passages given to that author", f">= {OWN_LABELLED:.2f}",
                     ", ".join(f"{a} {per_label[a]['own_label']:.3f}" for a in authors),
                     min(per_label[a]["own_label"] for a in authors) >= OWN_LABELLED))
    if report.get("unseen"):
        ece = report["unseen"]["ece"]
        rows.append(("ECE on unseen works", f"<= {UNSEEN_ECE:.2f}", f"{ece:.3f}", ece <= UNSEEN_ECE))
    measured = {**(validity.get("probes") or {}), **(validity.get("order") or {}),
                **({"seeds": validity["seeds"]} if validity.get("seeds") else {})}
    for probe, bounds in PROBE_GOALS.items():
        row = measured.get(probe)
        if not row:
            continue
        name = f"{'stability: seeds agree' if probe == 'seeds' else probe}{' (ours)' * (probe in OURS)}"
        by_author = row.get("by_author") or {}
        if by_author and all(f in r for r in by_author.values() for f, _, _ in bounds):
            # the bounds are each author's ("an unseen Carroll book ... given to Carroll"): each must meet them
            rows.append((name, goal_text(probe), ", ".join(_author_figure(a, r, f) for a, r in by_author.items() for f, _, _ in bounds),
                         all(_meets(r[f], op, b) for r in by_author.values() for f, op, b in bounds)))
        else:
            rows.append((name, goal_text(probe), ", ".join(f"{row[f]:+.3f}" if f == "mean_shift" else f"{row[f]:.3f}"
                                                           for f, _, _ in bounds),
                         all(_meets(row[f], op, b) for f, op, b in bounds)))
    markov = [measured.get(f"Markov order {k}") for k in MARKOV_ORDERS]
    if all(markov):  # an author's words in his local order and no further should earn less the less order is kept
        s = [m["mean_s"] for m in markov]
        rows.append((f"Markov order {MARKOV_ORDERS[0]}-{MARKOV_ORDERS[-1]}: mean S rises with the order", "increasing",
                     ", ".join(f"{v:.3f}" for v in s), all(a < b for a, b in zip(s, s[1:]))))
    return rows


def goals_table(report: dict, validity: dict, seeds: list[tuple[dict, dict]] | None = None) -> str:
    """Markdown: each goal the run has a figure for, the figure, and whether it is met ("" if
    none). With `seeds` (other seeds' report and validity, as `validate --seeds` leaves them),
    a column for this run and one for each seed after its own, and how many meet each goal."""
    runs = [goal_rows(report, validity)] + [goal_rows(r, v) for r, v in seeds or []]
    if not runs[0]:
        return ""
    if len(runs) == 1:
        return "\n".join(["| goal | bound | this run | met |", "|---|---|---|---|",
                          *(f"| {name} | {bound} | {value} | {'yes' if met else '**no**'} |"
                            for name, bound, value, met in runs[0])])
    by_run = [{name: (value, met) for name, _, value, met in rows} for rows in runs]
    lines = ["| goal | bound | this run | " + " | ".join(f"seed +{k}" for k in range(1, len(runs))) + " | met |",
             "|---|---|" + "---|" * len(runs) + "---|"]
    for name, bound, _, _ in runs[0]:
        cells = [figures.get(name) for figures in by_run]
        have, met = sum(c is not None for c in cells), sum(bool(c and c[1]) for c in cells)  # "-": no figure
        lines.append(f"| {name} | {bound} | " + " | ".join(c[0] if c else "-" for c in cells)
                     + f" | {met} of {have}{'' if met == have else ' **no**'} |")
    return "\n".join(lines)


def seed_figures(run_dir) -> list[tuple[dict, dict]]:
    """The other seeds' (report, validity) that `validate --seeds` left in the run folder."""
    out = []
    for seed in map(RunFiles, RunFiles(run_dir).seed_runs()):
        if seed.report.is_file():
            try:
                out.append((read_json(seed.report), read_json(seed.validity)))
            except ValueError as exc:  # a file cut short or edited by hand: say which, and how to write it again
                raise WhowroteError(f"{seed.root}: report.json or validity.json is not JSON ({exc}); write them again with "
                                    f"whowrote evaluate {seed.root} && whowrote validate {seed.root}") from None
    return out


if __name__ == "__main__":
    import sys

    files = RunFiles(sys.argv[1] if len(sys.argv) > 1 else ".")
    folder = files.root
    try:
        table = goals_table(read_json(files.report), read_json(files.validity), seed_figures(folder))
    except WhowroteError as exc:
        sys.exit(str(exc))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a damaged or foreign JSON file
        sys.exit(f"{folder}: report.json or validity.json is not whowrote's ({exc})")
    print(table or sys.exit(f"{folder}: no report.json or validity.json with held-out numbers"))
