"""The `whowrote` command: train, evaluate, plot, data, judge, compare.

Every Config field is a flag (`--seq-len 256`, `--lr 1e-5`), generated from the dataclass,
so the CLI, TOML files and presets can never disagree. Errors print one line and exit with
the codes listed in whowrote/errors.py; set WHOWROTE_DEBUG=1 to see tracebacks.

    whowrote train --preset cpu --data-dir ../shared/corpora
    whowrote plot runs/cpu-20261126-120000 --k 3 --edge shrink
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from dataclasses import fields

from .config import DEFAULT_PRESET, PRESETS, Config, field_help, parse_sources, resolve
from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, WhowroteError
from .smooth import EDGES

_CONFIG_FLAGS = [f.name for f in fields(Config) if f.name not in ("sources", "heldout", "preset")]


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", help=f"named settings: {', '.join(PRESETS)} (default {DEFAULT_PRESET})")
    p.add_argument("--config", metavar="TOML", help="a TOML file of settings, applied over the preset")
    p.add_argument("--source", action="append", metavar="LABEL=ID[,ID]",
                   help="replace the books: one per label, e.g. --source alice=12 --source edgar=2147,2148")
    p.add_argument("--heldout", action="append", metavar="LABEL=ID[,ID]",
                   help="replace the held-out works (never trained on; calibration and unseen-work numbers)")
    group = p.add_argument_group("settings (override the preset; defaults are the `cpu` study's, presets change some)")
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
    return resolve(args.preset, args.config, **overrides)


def cmd_train(args) -> int:
    from .train import train

    if os.environ.get("LOCAL_RANK", "0") != "0" or os.environ.get("RANK", "0") != "0":
        args.quiet = True  # under `accelerate launch`, only the main process talks
    if args.resume:
        given = [f"--{n.replace('_', '-')}" for n in _CONFIG_FLAGS if getattr(args, n) is not None and n != "steps"]
        given += [flag for flag, v in (("--source", args.source), ("--heldout", args.heldout), ("--config", args.config),
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
    return _print_report(run_dir)


def _print_report(run_dir) -> int:
    import json

    report = json.loads((run_dir / "report.json").read_text())
    t, cal = report["test"], report["calibration"]
    print(f"run folder: {run_dir}")
    print(f"test accuracy {t['accuracy']:.4f} (balanced {t['balanced_accuracy']:.4f}) loss {t['loss']:.4f} "
          f"on {t['windows']} held-out windows {t['windows_per_label']}")
    print(f"calibration ({cal['fitted_on']}): T={cal['temperature']:.3f}  ECE {cal['test_before']['ece']:.4f} -> "
          f"{cal['test_after']['ece']:.4f}  Brier {cal['test_before']['brier']:.4f} -> {cal['test_after']['brier']:.4f}")
    unseen = report.get("unseen")
    if unseen:
        print(f"works never trained on: accuracy {unseen['accuracy']:.4f}, ECE {unseen['ece']:.4f} on {unseen['passages']} passages")
        for w, r in unseen["per_work"].items():
            print(f"  {r['label']:<8} #{w:<6} {r.get('work', '')[:48]:<48} own label {r['own_label']:.3f}  neither {r['neither']:.3f}")
    if report.get("open_set", {}).get("method", "none") != "none":
        print(f"open set: neither when P({report['open_set']['background']}) >= {report['open_set']['threshold']:.4f}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from pathlib import Path

    from .evaluate import evaluate_run

    evaluate_run(args.run, data_dir=args.data_dir, progress=not args.quiet)
    return _print_report(Path(args.run))


def cmd_validate(args) -> int:
    from .validate import validate

    v = validate(args.run, seeds=args.seeds, per_work=args.per_work, data_dir=args.data_dir, progress=not args.quiet,
                 readme=args.readme)
    print(f"validity ({v['passages']} held-out passages, {v['seconds']:.0f} s) -> {args.run}/validity.json")
    for name, row in v["probes"].items():
        print(f"  {name:<24} labels changed {row['changed']:.3f}  mean shift {row['mean_shift']:+.3f}  "
              f"accuracy {row['accuracy_before']:.3f} -> {row['accuracy_after']:.3f}  (goal {row['goal'] or '-'})")
    if "seeds" in v:
        print(f"  {v['seeds']['runs']} seeds agree on {v['seeds']['agreement']:.3f} of {v['seeds']['passages']} passages")
    return EXIT_OK


def cmd_serve(args) -> int:
    import torch
    import uvicorn

    from .judge import Judge, model_folder
    from .serve import create_app, port_free

    if args.max_bytes < 1 or args.timeout <= 0:
        raise WhowroteError("serve: --max-bytes and --timeout must be positive")
    judge = Judge.load(args.model)  # a bad model folder fails here, before any port is taken
    if not port_free(args.host, args.port):
        raise WhowroteError(f"serve: port {args.port} on {args.host} is in use; pick another with --port")
    torch.set_num_threads(os.cpu_count() or 1)
    folder = model_folder(args.model)
    run_dir = folder.parent if folder.name == "model" else None
    app = create_app(judge, run_dir, max_bytes=args.max_bytes, timeout_s=args.timeout)
    print(f"whowrote: serving {folder} on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return EXIT_OK


def cmd_plot(args) -> int:
    from .plot import plot_run
    from .runfolder import check_run_dir

    check_run_dir(args.run)
    try:
        paths = plot_run(args.run, k=args.k, edge=args.edge)
    except ValueError as exc:  # k even, too large ...
        raise WhowroteError(f"plot: {exc}") from None
    print("\n".join(str(p) for p in paths))
    return EXIT_OK


def cmd_data(args) -> int:
    from . import data_cmd

    return data_cmd.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="whowrote", description="Fine-tune BERT to tell who wrote a passage, and judge text with it.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="fine-tune a classifier; writes runs/<name>/")
    _add_config_flags(p)
    p.add_argument("--name", help="run folder name (default <preset>-<date>-<time>)")
    p.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a run's model on its held-out windows; rewrite report.json")
    p.add_argument("run")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files (default: the run's)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("validate", help="validity probes on the run's held-out works: names, typos, casing, seeds")
    p.add_argument("run")
    p.add_argument("--seeds", type=int, default=1, help="train N-1 more seeds and measure agreement (default 1: off)")
    p.add_argument("--per-work", type=int, default=60, help="passages per held-out work (default 60)")
    p.add_argument("--readme", help="also write the validity tables into this README between validity markers")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files (default: the run's)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("serve", help="the judge over HTTP, with a web page: score, explain, rolling attribution")
    p.add_argument("--model", required=True, help="a run folder or a model folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-bytes", type=int, default=1_000_000, help="largest request body accepted (413 above)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a request gets 504")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("plot", help="loss and accuracy vs step, raw and smoothed, into RUN/plots/")
    p.add_argument("run")
    p.add_argument("--k", type=int, default=3, help="moving-mean width, odd (default 3, as in the study)")
    p.add_argument("--edge", default="shrink", choices=EDGES, help="edge treatment")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("data", help="list, fetch or verify the books")
    p.add_argument("action", choices=["list", "fetch", "verify"])
    p.add_argument("ids", nargs="*", help="ebook numbers or paths (default: the preset's books)")
    p.add_argument("--preset", help=f"whose books (default {DEFAULT_PRESET})")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files (or set WHOWROTE_DATA)")
    p.add_argument("--offline", action="store_true", help="never download")
    p.add_argument("--model", help="tokenizer for the token counts (default: the preset's model)")
    p.set_defaults(func=cmd_data)

    from . import compare_cli, judge_cli  # a broken subcommand must fail loudly, not vanish

    judge_cli.register(sub)
    compare_cli.register(sub)
    return parser


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # peft asks transformers a deprecated question on every wrap: not the user's concern
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def _one_line_warnings() -> None:
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"whowrote: warning: {message}", file=sys.stderr)
    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _one_line_warnings()
    _quiet_libraries()
    debug = os.environ.get("WHOWROTE_DEBUG")
    try:
        return args.func(args)
    except WhowroteError as exc:
        if debug:
            raise
        print(f"whowrote: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("whowrote: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # disk full, permissions, a folder where a file was expected
        if debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        print(f"whowrote: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
