"""The `whowrote` command: train, evaluate, validate, plot, data, judge, serve, compare, generator-study.

Each stage's cli.py registers its subcommands (`register(sub)`); this module assembles
them and turns errors into one line on stderr and the exit codes of whowrote/errors.py
(WHOWROTE_DEBUG=1 shows tracebacks).

    whowrote --help
    whowrote train --preset cpu --data-dir ../shared/corpora
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, WhowroteError


def build_parser() -> argparse.ArgumentParser:
    from .compare import cli as compare_cli
    from .evaluation import cli as evaluation_cli
    from .generator import cli as generator_cli
    from .judge import cli as judge_cli
    from .serve import cli as serve_cli
    from .text import cli as text_cli
    from .training import cli as training_cli

    parser = argparse.ArgumentParser(prog="whowrote", description="Fine-tune BERT to tell who wrote a passage, and judge text with it.")
    sub = parser.add_subparsers(dest="command", required=True)
    for stage in (training_cli, evaluation_cli, judge_cli, serve_cli, compare_cli, generator_cli, text_cli):
        stage.register(sub)  # a broken subcommand fails loudly here, never vanishes
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
