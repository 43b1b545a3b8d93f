"""Bad input gets one line on stderr and a non-zero exit code, never a traceback."""

import json
import os
import subprocess
import sys

import pytest

from whowrote.cli import main
from whowrote.errors import EXIT_BAD_INPUT, EXIT_OK


def run_cli(*args, env=None):
    """The real console entry point in a subprocess, as a user would run it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "whowrote", *args], capture_output=True, text=True, env=full_env, timeout=300)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if not l.startswith("whowrote: warning")]
    assert len(lines) == 1 and lines[0].startswith("whowrote: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for f in fragments:
        assert f in lines[0]


def test_unknown_preset():
    assert_one_line_error(run_cli("train", "--preset", "gpu"), "unknown preset 'gpu'")


def test_missing_book_offline(tmp_path, tiny_model):
    proc = run_cli("train", "--preset", "tiny", "--model", str(tiny_model), "--source", "alice=987654", "--source", "edgar=987655",
                   "--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "runs"),
                   env={"WHOWROTE_CACHE": str(tmp_path / "cache"), "WHOWROTE_OFFLINE": "1"})
    assert_one_line_error(proc, "#987654", "--data-dir")


def test_book_shorter_than_one_window(tmp_path, synthetic_books, tiny_model):
    short = tmp_path / "short.txt"
    short.write_text("Far too short.")
    proc = run_cli("train", "--model", str(tiny_model), "--source", f"alice={short}", "--source", "edgar=90002",
                   "--data-dir", str(synthetic_books), "--seq-len", "32", "--output-dir", str(tmp_path / "runs"))
    assert_one_line_error(proc, "shorter than one window")
    assert "no Project Gutenberg START/END markers" in proc.stderr  # the warning for a non-Gutenberg file


def test_unwritable_output_folder(tmp_path, synthetic_books, tiny_model):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli("train", "--model", str(tiny_model), "--source", "alice=90001", "--source", "edgar=90002",
                   "--data-dir", str(synthetic_books), "--seq-len", "32", "--block-len", "128",
                   "--output-dir", str(blocker / "runs"))
    assert_one_line_error(proc, "cannot write to output folder")


def test_not_a_run_folder(tmp_path):
    for command in ("evaluate", "plot"):
        assert_one_line_error(run_cli(command, str(tmp_path)), "is not a whowrote run folder")
    assert_one_line_error(run_cli("train", "--resume", str(tmp_path)), "is not a whowrote run folder")


def test_bad_setting_value():
    assert_one_line_error(run_cli("train", "--steps", "many"), "steps")


def test_plot_with_even_k_is_a_clear_error(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "metrics.jsonl").write_text("".join(json.dumps({"kind": "train", "step": i, "loss": 1 / i, "accuracy": 0.5}) + "\n" for i in range(1, 9)))
    assert main(["plot", str(run), "--k", "3", "--edge", "zero"]) == EXIT_OK
    assert (run / "plots" / "training_k3_zero.png").stat().st_size > 1000
    assert_one_line_error(run_cli("plot", str(run), "--k", "4"), "odd")


def test_data_verify_on_synthetic_books(synthetic_books, tiny_model, capsys):
    assert main(["data", "verify", "90001", "90002", "--data-dir", str(synthetic_books), "--offline", "--model", str(tiny_model)]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("label\tsource\twords\ttokens\tsha256") and len(out) == 3


def test_resume_refuses_other_settings_and_says_so(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": {}}))
    assert_one_line_error(run_cli("train", "--resume", str(run), "--lr", "1e-3"), "only --steps", "--lr")
    assert_one_line_error(run_cli("train", "--resume", str(run)), "no checkpoint to resume from")


@pytest.mark.parametrize("flags,fragment", [
    (["--smooth-k", "4"], "smooth_k"), (["--smooth-k", "0"], "smooth_k"), (["--schedule", "exotic"], "schedule"),
    (["--steps", "-3"], "steps"), (["--lr", "-1"], "lr"), (["--folds", "3", "--fold", "3"], "fold"),
    (["--open-set", "energy"], "open_set"), (["--typos", "2"], "typos"),
    (["--add-source", "nether=1342"], "no label 'nether'"), (["--add-source", "neither"], "--add-source expects"),
])
def test_every_setting_is_checked_before_any_work(flags, fragment):
    proc = run_cli("train", *flags)
    assert_one_line_error(proc, fragment)


def test_help_lists_each_setting_with_type_and_meaning():
    proc = run_cli("train", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "--typos FLOAT" in text and "mistyped" in text and "--seq-len INT" in text and "(default 128)" in text
