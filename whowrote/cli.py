"""The `whowrote` command: train, evaluate, validate, plot, data, judge, serve, compare, generator-study.

Each command's front in commands/ registers its subcommands (`register(sub)`); this module
assembles them and turns errors into one line on stderr and the exit codes of whowrote/errors.py
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
    from .commands import compare, data, evaluate, generator, judge, serve, train

    parser = argparse.ArgumentParser(prog="whowrote", description="Fine-tune BERT to tell who wrote a passage, and judge text with it.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (train, evaluate, judge, serve, compare, generator, data):
        command.register(sub)  # a broken subcommand fails loudly here, never vanishes
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
