"""`whowrote compare`: run the protocols of compare/protocol.py and write their report (compare/report.py).

Writes into --out (default compare/): results_folds.csv (one row per protocol, seed, fold,
length, method), results.csv (protocol x method x length: mean and std across folds and
seeds, passages, seconds), results.md (tables, what each method sees, and the verdict),
accuracy_vs_length.png/.svg, meta.json. `--readme docs/comparison.md` also puts results.md between
the README's `<!-- compare:start -->` and `<!-- compare:end -->` markers.

    whowrote compare --protocol both --lengths 16 32 64 128 256 --folds 5 --seeds 3 --ensemble
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..compare.report import aggregate, markdown, plot, write_csv
from ..errors import EXIT_OK, WhowroteError
from ..files import atomic_write, readme_section, update_readme_section


def register(sub) -> None:
    p = sub.add_parser("compare", help="classical stylometry baselines vs whowrote on identical passages")
    p.add_argument("--run", help="a run folder whose config (books, model, seed, lr) is the base (default: --preset)")
    p.add_argument("--preset", help="settings to compare with (default: the CLI's default preset)")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files")
    p.add_argument("--model", help="override the encoder (a hub name or local folder)")
    p.add_argument("--protocol", default="both", choices=["blocks", "works", "both"],
                   help="blocks: blocked k-fold in the training works; works: leave works out (default both)")
    p.add_argument("--lengths", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="passage lengths in tokens")
    p.add_argument("--folds", type=int, default=5, help="folds of the blocks protocol (works: one per work)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--methods", nargs="+", default=["char", "word", "delta"], choices=["char", "word", "delta"])
    p.add_argument("--no-bert", action="store_true", help="baselines only")
    p.add_argument("--bert-steps", type=int, default=60, help="training steps of each BERT run (shorter than train)")
    p.add_argument("--ensemble", action="store_true", help="add BERT + char n-gram ensemble (weight fitted on validation)")
    p.add_argument("--max-train-windows", type=int, default=4000, help="cap on baseline training passages per label")
    p.add_argument("--max-test-windows", type=int, default=1000, help="cap on test (and validation) passages per label and fold")
    p.add_argument("--out", default="compare")
    p.add_argument("--readme", help="also write the table into this README between compare markers")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from ..compare.protocol import run_protocol
    from ..config import load_run_config, resolve
    from ..model.bert import load_tokenizer

    base = load_run_config(args.run) if args.run else resolve(args.preset)
    if args.data_dir:
        base.data_dir = args.data_dir
    if args.model:
        base.model = args.model
    if args.folds < 2 or args.seeds < 1 or any(L < 4 for L in args.lengths) or args.bert_steps < 1:
        raise WhowroteError("compare: need --folds >= 2, --seeds >= 1, --bert-steps >= 1 and lengths >= 4")
    if args.readme:
        readme_section(args.readme, "compare")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhowroteError(f"cannot write to {out}: {exc.strerror}") from None
    t0 = time.time()
    tokenizer = load_tokenizer(base.model)
    rows = []
    for protocol in (["blocks", "works"] if args.protocol == "both" else [args.protocol]):
        rows += run_protocol(base, tokenizer, args.lengths, args.folds, args.seeds, args.methods, protocol=protocol,
                             bert=not args.no_bert, bert_steps=args.bert_steps,
                             ensemble_with="char" if args.ensemble else None, max_train_windows=args.max_train_windows,
                             max_test_windows=args.max_test_windows, progress=not args.quiet)
    summary = aggregate(rows)
    meta = {"folds": args.folds, "seeds": args.seeds, "bert_steps": args.bert_steps, "lengths": args.lengths,
            "protocol": args.protocol, "max_train_windows": args.max_train_windows, "created": time.strftime("%Y-%m-%d"),
            "wall_seconds": round(time.time() - t0, 1), "model": base.model,
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"}
    write_csv(out / "results_folds.csv", rows)
    write_csv(out / "results.csv", summary)
    md = markdown(rows, summary, meta)
    atomic_write(out / "results.md", md)
    atomic_write(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    plot(summary, out / "accuracy_vs_length.png")
    if args.readme:
        readme = Path(args.readme)
        # relpath, not relative_to: the output folder need not lie under the README's folder
        image = Path(os.path.relpath(out / "accuracy_vs_length.png", readme.resolve().parent)).as_posix()
        update_readme_section(readme, "compare", f"{md}\n![accuracy vs length]({image})")
    print(md)
    return EXIT_OK
