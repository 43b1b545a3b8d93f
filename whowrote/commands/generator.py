"""`whowrote generator-study`: train a small GPT-2 on the judge's authors and judge it while it
learns, beside reference generators; see generator/study.py. `--docs PAGE` writes the
summary table into PAGE between `<!-- generator:start -->` and `<!-- generator:end -->` and
copies the plot beside it.

    whowrote generator-study --model runs/<name> --out study/ [--steps 600] [--docs docs/generator.md]
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import EXIT_OK, WhowroteError
from ..generator import SAMPLING


def register(sub) -> None:
    p = sub.add_parser("generator-study", help="train a small GPT-2 on the authors and judge it while it learns")
    p.add_argument("--model", required=True, help="the judge: a run folder (its config names the training books)")
    p.add_argument("--out", required=True, help="folder for report.json, samples.jsonl, study.png/.svg")
    p.add_argument("--steps", type=int, default=600, help="language-model training steps (default 600)")
    p.add_argument("--every", type=int, default=100, help="judge samples every N steps (default 100)")
    p.add_argument("--samples", type=int, default=24, help="passages per control token at each check (default 24)")
    p.add_argument("--tokens", type=int, default=120, help="tokens per sampled passage (default 120)")
    p.add_argument("--layers", type=int, default=4, help="GPT-2 layers (default 4)")
    p.add_argument("--hidden", type=int, default=256, help="GPT-2 width (default 256)")
    p.add_argument("--batch", type=int, default=16, help="windows per step (default 16)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    p.add_argument("--temperature", type=float, default=SAMPLING["temperature"],
                   help=f"sampling temperature (default {SAMPLING['temperature']})")
    p.add_argument("--top-p", type=float, default=SAMPLING["top_p"],
                   help=f"nucleus sampling: keep the likeliest tokens holding this much probability (default {SAMPLING['top_p']})")
    p.add_argument("--references", type=int, default=24, help="passages per reference generator and author (default 24)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--docs", help="a docs page to write the summary into (between generator markers)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_study)


def cmd_study(args) -> int:
    from ..config import check_run_dir
    from ..files import update_readme_section
    from ..generator.study import run_study

    check_run_dir(args.model)
    for name in ("steps", "every", "samples", "tokens", "layers", "hidden", "batch", "references"):
        if getattr(args, name) < 1:
            raise WhowroteError(f"generator-study: --{name} must be at least 1")
    if args.tokens > 127:
        raise WhowroteError("generator-study: --tokens must be at most 127 (the model's context is 128)")
    if not (args.temperature > 0 and 0 < args.top_p <= 1):
        raise WhowroteError("generator-study: --temperature must be above 0 and --top-p in (0, 1]")
    if args.hidden % 4:
        raise WhowroteError("generator-study: --hidden must be a multiple of 4 (four attention heads)")
    report = run_study(args.model, args.out, steps=args.steps, every=args.every, samples=args.samples, tokens=args.tokens,
                       layers=args.layers, hidden=args.hidden, batch=args.batch, lr=args.lr, references=args.references,
                       temperature=args.temperature, top_p=args.top_p, seed=args.seed, progress=not args.quiet)
    text = summary(report)
    print(text)
    if args.docs:
        page = Path(args.docs)
        figures = page.parent / "generator"
        figures.mkdir(parents=True, exist_ok=True)
        for suffix in (".png", ".svg"):
            shutil.copyfile(Path(args.out) / f"study{suffix}", figures / f"study{suffix}")
        update_readme_section(str(page), "generator", f"![generator study](generator/study.png)\n\n{text}")
    return EXIT_OK


def summary(report: dict) -> str:
    """The study as markdown: the generator's samples at the last check, then the references."""
    target, lmr = report["target"], report["language_model"]
    sampling = report.get("sampling")
    lines = [f"GPT-2 of {lmr['parameters'] / 1e6:.1f}M parameters, {lmr['steps']} steps of {lmr['batch']} x {lmr['context']} "
             f"tokens" + (f", sampled at temperature {sampling['temperature']}, top-p {sampling['top_p']}" if sampling else "")
             + f"; S = P(author | text) with neither an answer, from the judge `{Path(report['judge']).name}`; "
             f"{report['seconds']['whole study']:.0f} s.",
             "", f"| texts | made to look like | n | S of that author | S of {target} | given to that author | judged neither "
             "| copied (8-word runs) | real words |", "|---|---|---|---|---|---|---|---|---|"]
    rows = [(f"GPT-2 `<{a}>` samples, step {report['final_step']}", a, r) for a, r in report["final"].items()]
    rows += [(name, a, r) for name, by_author in report["references"].items() for a, r in by_author.items()]
    for name, author, r in rows:
        copied = "-" if r["copied"] is None else f"{r['copied']:.2f}"
        lines.append(f"| {name} | {author} | {r['texts']} | {r['mean_s']:.2f} | {r['mean_s_target']:.2f} | "
                     f"{r['given_to_author']:.2f} | {r['neither']:.2f} | {copied} | {r.get('words', float('nan')):.2f} |")
    bits = {a: r[a]["heldout_bits_per_char"] for r in report["history"][-1:] for a in report["authors"]
            if "heldout_bits_per_char" in r.get(a, {})}
    if bits:
        lines += ["", "The language model on the authors' held-out works at the last check: "
                  + ", ".join(f"{a} {b:.2f}" for a, b in bits.items()) + " bits per character."]
    if report.get("gap") is not None:
        lines += ["", f"S of `<{target}>` samples minus S of the others' samples at the last check: **{report['gap']:.2f}**."]
    return "\n".join(lines)
