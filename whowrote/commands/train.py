"""`whowrote train` and `whowrote plot`: fine-tune from a preset, TOML and flags; draw the study's figure.

Every Config field is a flag (`--seq-len 256`, `--lr 1e-5`) with its type, default and the
comment it has in whowrote/config.py as help, so the CLI, TOML files and presets can never
disagree.

    whowrote train --preset cpu --data-dir ../shared/corpora
    whowrote plot runs/authors-20261127-120000 --k 5 --edge zero
"""

from __future__ import annotations

import argparse
import os
from dataclasses import fields

from ..config import DEFAULT_PRESET, PRESETS, Config, field_help, parse_sources, resolve
from ..errors import EXIT_OK, WhowroteError
from ..smooth import EDGES

_CONFIG_FLAGS = [f.name for f in fields(Config) if f.name not in ("sources", "heldout", "calibration", "preset")]


def add_config_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", help=f"named settings: {', '.join(PRESETS)} (default {DEFAULT_PRESET})")
    p.add_argument("--config", metavar="TOML", help="a TOML file of settings, applied over the preset")
    p.add_argument("--source", action="append", metavar="LABEL=ID[,ID]",
                   help="replace the books: one per label, e.g. --source alice=12 --source edgar=2147,2148")
    p.add_argument("--add-source", action="append", metavar="LABEL=ID[,ID]",
                   help="add books to a label the preset has, keeping its held-out works and background, "
                        "e.g. --add-source neither=1342,76 (more background authors)")
    p.add_argument("--heldout", action="append", metavar="LABEL=ID[,ID]",
                   help="replace the held-out works (never trained on; calibration and unseen-work numbers)")
    group = p.add_argument_group(f"settings (override the preset; defaults are the {DEFAULT_PRESET} preset's)")
    defaults, helps = Config(), field_help()
    for f in fields(Config):
        if f.name in _CONFIG_FLAGS:
            kind = type(getattr(defaults, f.name)).__name__.replace("NoneType", "str")
            group.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None, metavar=kind.upper(),
                               help=f"{helps[f.name]} (default {getattr(defaults, f.name)!r})".replace("%", "%%"))


def config_from_args(args) -> Config:
    overrides = {name: getattr(args, name, None) for name in _CONFIG_FLAGS}
    if getattr(args, "source", None):
        overrides["sources"] = parse_sources(args.source)
    if getattr(args, "heldout", None):
        overrides["heldout"] = parse_sources(args.heldout, "--heldout")
    added = parse_sources(args.add_source, "--add-source") if getattr(args, "add_source", None) else None
    return resolve(args.preset, args.config, add_sources=added, **overrides)


def cmd_train(args) -> int:
    from ..pipeline import train
    from .evaluate import print_report

    if os.environ.get("LOCAL_RANK", "0") != "0" or os.environ.get("RANK", "0") != "0":
        args.quiet = True  # under `accelerate launch`, only the main process talks
    if args.resume:
        given = [f"--{n.replace('_', '-')}" for n in _CONFIG_FLAGS if getattr(args, n) is not None and n != "steps"]
        given += [flag for flag, v in (("--source", args.source), ("--add-source", args.add_source),
                                       ("--heldout", args.heldout), ("--config", args.config),
                                       ("--name", args.name)) if v]
        if given or args.preset:
            raise WhowroteError(f"--resume continues a run with the settings it was started with; only --steps "
                                f"may be given (to extend it), not {', '.join(given) or '--preset'}")
        steps = int(args.steps) if args.steps is not None else None
        run_dir = train(run_dir=args.resume, resume=True, progress=not args.quiet, steps=steps)
    else:
        run_dir = train(config_from_args(args), name=args.name, progress=not args.quiet)
    if os.environ.get("RANK", "0") != "0":
        return EXIT_OK
    return print_report(run_dir)


def cmd_plot(args) -> int:
    from ..training.plot import plot_run
    from ..training.runfolder import check_run_dir

    check_run_dir(args.run)
    try:
        paths = plot_run(args.run, k=args.k, edge=args.edge)
    except ValueError as exc:  # k even, too large ...
        raise WhowroteError(f"plot: {exc}") from None
    print("\n".join(str(p) for p in paths))
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a classifier; writes runs/<name>/")
    add_config_flags(p)
    p.add_argument("--name", help="run folder name (default <preset>-<date>-<time>)")
    p.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("plot", help="loss and accuracy vs step, raw and smoothed, into RUN/plots/")
    p.add_argument("run")
    p.add_argument("--k", type=int, default=3, help="moving-mean width, odd (default 3, as in the study)")
    p.add_argument("--edge", default="shrink", choices=EDGES, help="edge treatment")
    p.set_defaults(func=cmd_plot)
