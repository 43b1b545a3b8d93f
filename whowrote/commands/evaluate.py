"""`whowrote evaluate` and `whowrote validate`: a run's held-out numbers and its validity probes.

    whowrote evaluate runs/authors-20261127-120000
    whowrote validate runs/authors-20261127-120000 --seeds 3 --readme docs/validation.md
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import EXIT_OK
from ..layout import RunFiles, read_json
from ..model.metrics import share_text
from ..model.openset import describe


def print_report(run_dir) -> int:
    report = json.loads(RunFiles(run_dir).report.read_text())
    t, cal = report["test"], report["calibration"]
    print(f"run folder: {run_dir}")
    print(f"test accuracy {t['accuracy']:.4f} (balanced {t['balanced_accuracy']:.4f}) loss {t['loss']:.4f} "
          f"on {t['windows']} held-out windows {t['windows_per_label']}")
    print(f"calibration ({cal['fitted_on']}): T={cal['temperature']:.3f}  ECE {cal['test_before']['ece']:.4f} -> "
          f"{cal['test_after']['ece']:.4f}  Brier {cal['test_before']['brier']:.4f} -> {cal['test_after']['brier']:.4f}")
    partner = report.get("partner")
    if partner:
        acc = partner.get("unseen_accuracy")
        print(f"char partner: weight {partner['weight']:.2f}, NLL on {partner['fitted_on']} BERT alone "
              f"{partner['nll']['bert']:.4f} -> mixed {partner['nll']['mixed']:.4f}"
              + (f"; unseen-work accuracy (all labels) BERT {acc['bert']:.3f}, char {acc['char']:.3f}, "
                 f"mixed {acc['mixed']:.3f}" if acc else ""))
    unseen = report.get("unseen")
    if unseen:
        print(f"works never trained on: accuracy {unseen['accuracy']:.4f}, ECE {unseen['ece']:.4f} on {unseen['passages']} passages")
        for w, r in unseen["per_work"].items():
            print(f"  {r['label']:<8} #{w:<6} {r.get('work', '')[:48]:<48} own label {share_text(r, 'own_label')}  "
                  f"neither {share_text(r, 'neither')}")
    if report.get("open_set", {}).get("method", "none") != "none":
        print(f"open set: neither when {describe(report['open_set'])} (one window; other lengths below)")
        for r in report.get("unseen_by_length", []):
            print(f"  texts of {r['tokens']:>4} tokens: " + ", ".join(
                f"{lab} flagged {x['neither']:.3f}" for lab, x in r["per_label"].items()) + f" ({r['texts']} texts)")
    for name, (title, detail) in CHECK_LINES.items():
        _print_check(report.get(name), title, detail)
    return EXIT_OK


# report.json section -> (what the check does, what each author's line adds), for `_print_check`
CHECK_LINES = {
    "repetition_check": (
        lambda c: f"repetition check (neither when more than the threshold of a window's runs of {c['words']} words "
                  f"were said before in it)",
        lambda c, a, f: f"{f['loops_flagged']:.3f} of every label's windows looped"),
    "coherence_check": (
        lambda c: f"coherence check (neither when the pretrained encoder's layers {c['layers']} read a word chain more "
                  f"surely than the threshold; every label's prose together: {c['pooled_threshold']:+.2f})",
        lambda c, a, f: f"{f['chains_flagged']:.3f} of order-1 word chains of every label's ({f['own_chains_flagged']:.3f} "
                        f"of its own)"),
    "order_check": (
        lambda c: "word-order check (neither when log S falls by less than the threshold with the words shuffled)",
        lambda c, a, f: f"{f['salad_flagged']:.3f} of them shuffled (given to {a} {f['salad_given_before']:.3f} -> "
                        f"{f['salad_given_after']:.3f})"),
    "keyword_check": (
        lambda c: f"keyword check (neither when log S falls by more than the threshold without the author's {c['words']} "
                  f"most distinctive words)",
        lambda c, a, f: f"{f['stuffed_flagged']:.3f} of other authors' stuffed {c['stuff_rate']:.0%} and given to it "
                        f"(given to {a} {f['stuffed_given_before']:.3f} -> {f['stuffed_given_after']:.3f})"),
}


def _print_check(check: dict | None, title, detail) -> None:
    """One of the judge's checks as calibration fitted it, author by author, and what it flags."""
    if not check:
        return
    print(f"{title(check)}:")
    for author, fit in check["authors"].items():
        odds = f"; a flag weighs the odds of S by {fit['odds']:.3f}" if fit["kept"] and "odds" in fit else ""
        print(f"  {author:<8} threshold {fit['threshold']:+.3f} {'kept' if fit['kept'] else 'not kept'}: flags "
              f"{fit['own_flagged']:.3f} of its {fit['windows']} calibration windows, {detail(check, author, fit)}{odds}")
    print("  unseen test windows it turns to neither: " + ", ".join(
        f"{lab} {x:.3f}" for lab, x in check.get("test_flagged", {}).items()))


def cmd_evaluate(args) -> int:
    from ..evaluation.evaluate import evaluate_run

    evaluate_run(args.run, data_dir=args.data_dir, progress=not args.quiet)
    return print_report(Path(args.run))


def cmd_validate(args) -> int:
    from ..evaluation.goals import goals_table, seed_figures
    from ..evaluation.validate import validate

    v = validate(args.run, seeds=args.seeds, per_work=args.per_work, data_dir=args.data_dir, progress=not args.quiet,
                 readme=args.readme)
    print(f"validity ({v['passages']} held-out passages, {v['seconds']:.0f} s) -> {args.run}/validity.json")
    for name, row in v["probes"].items():
        print(f"  {name:<24} labels changed {share_text(row, 'changed')}  mean shift {row['mean_shift']:+.3f}  "
              f"accuracy {row['accuracy_before']:.3f} -> {row['accuracy_after']:.3f}  (goal {row['goal'] or '-'})")
    if "seeds" in v:
        by = ", ".join(f"{lab} {x:.3f}" for lab, x in v["seeds"].get("agreement_by_label", {}).items())
        print(f"  {v['seeds']['runs']} seeds agree on {share_text(v['seeds'], 'agreement')} of {v['seeds']['passages']} passages ({by})")
        print(goals_table(read_json(RunFiles(args.run).report), v, seed_figures(args.run)))
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="score a run's model on its held-out windows; rewrite report.json")
    p.add_argument("run")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files (default: the run's)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("validate", help="validity probes on the run's held-out works: names, typos, casing, seeds")
    p.add_argument("run")
    p.add_argument("--seeds", type=int, default=1,
                   help="train, evaluate and probe N-1 more seeds (RUN/seeds/): their agreement, and each goal on "
                        "every seed (default 1: off; a seed takes a training run's time)")
    p.add_argument("--per-work", type=int, default=60, help="passages per held-out work (default 60)")
    p.add_argument("--readme", help="also write the validity tables into this README between validity markers")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files (default: the run's)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_validate)
