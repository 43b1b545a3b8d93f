"""`accelerate launch --multi_gpu --num_processes 2` on a CPU: two gloo ranks under DDP.
One run folder, one model, every step logged once, and Ctrl-C to every rank leaves one
checkpoint that a single process resumes."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

STEPS = 12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(tmp_path, synthetic_books, tiny_model, name, steps=STEPS, checkpoint_every=0):
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(free_port()), "-m", "whowrote", "train", "--quiet", "--name", name,
           "--model", str(tiny_model), "--source", "alice=90001", "--source", "edgar=90002",
           "--data-dir", str(synthetic_books), "--seq-len", "32", "--block-len", "128", "--per-class", "4",
           "--steps", str(steps), "--eval-every", "4", "--eval-windows-per-class", "8", "--lr", "3e-3",
           "--checkpoint-every", str(checkpoint_every), "--output-dir", str(tmp_path / "runs")]
    # CPU ranks (gloo) also on a GPU machine: one GPU cannot hold two NCCL ranks
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "WHOWROTE_CACHE": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def steps_logged(run):
    path = run / "metrics.jsonl"
    if not path.is_file():
        return []
    return [r["step"] for r in map(json.loads, path.read_text().splitlines()) if r["kind"] == "train"]


@pytest.mark.slow
def test_two_processes_write_one_run_folder_and_one_model(tmp_path, synthetic_books, tiny_model):
    proc = launch(tmp_path, synthetic_books, tiny_model, "ddp")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["ddp"]
    run = tmp_path / "runs" / "ddp"
    assert steps_logged(run) == list(range(1, STEPS + 1))  # each step once, from the main process
    assert (run / "model" / "model.safetensors").is_file() and (run / "report.json").is_file()
    assert out.count("run folder:") == 1  # only the main process talks
    config = json.loads((run / "config.json").read_text())
    assert config["device"].startswith("cpu")


@pytest.mark.slow
def test_ctrl_c_to_every_rank_leaves_a_checkpoint_that_resumes(tmp_path, synthetic_books, tiny_model):
    from whowrote.pipeline import train

    proc = launch(tmp_path, synthetic_books, tiny_model, "cut", steps=400)
    run = tmp_path / "runs" / "cut"
    deadline = time.time() + 300
    while len(steps_logged(run)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    workers = [p for p in psutil.Process(proc.pid).children(recursive=True) if "whowrote" in " ".join(p.cmdline())]
    assert len(workers) == 2, [p.cmdline() for p in workers]
    for w in workers:  # Ctrl-C reaches every rank, at slightly different moments
        w.send_signal(signal.SIGINT)
        time.sleep(0.05)
    proc.communicate(timeout=300)
    states = [json.loads((run / "checkpoint" / f"trainer_state_{i}.json").read_text()) for i in (0, 1)]
    assert states[0]["step"] == states[1]["step"] >= 3  # every rank stopped at the same step
    stopped = states[0]["step"]
    assert steps_logged(run) == list(range(1, stopped + 1))
    resumed = train(run_dir=run, resume=True, progress=False, steps=stopped + 4)
    assert steps_logged(resumed) == list(range(1, stopped + 5)) and (resumed / "model").is_dir()
