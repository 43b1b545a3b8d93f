"""What machine a figure came from: CPU model, the instruction set torch runs (AMX,
AVX-512, AVX2), torch version and threads, and a measured fp32 matmul peak. Every
benchmark prints this beside its figures and puts it in the README rows it writes, and
runs its main() through `run_benchmark`, so bad input is one line, not a traceback.

    .venv/bin/python benchmarks/machine.py
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 .venv/bin/python benchmarks/machine.py
"""

from __future__ import annotations

import os
import platform
import sys
import time


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def instruction_set() -> str:
    """What the CPU offers and what torch was allowed to use (ATEN_CPU_CAPABILITY)."""
    import torch

    flags = set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    has = "AMX" if "amx_tile" in flags else "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "?"
    used = torch.backends.cpu.get_cpu_capability()
    restricted = " (restricted by ATEN_CPU_CAPABILITY)" if os.environ.get("ATEN_CPU_CAPABILITY") else ""
    bf16 = ", bf16 in hardware" if {"amx_bf16", "avx512_bf16"} & flags and used != "AVX2" else ", no bf16 in hardware"
    return f"{has} CPU, torch kernels {used}{restricted}{bf16}"


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """fp32 n x n matmul throughput: the machine's practical peak for this work."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t0) / 1e9


def describe(peak: float | None = None) -> str:
    import torch

    peak = peak if peak is not None else matmul_gflops()
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return (f"{cpu_model()}, {instruction_set()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"fp32 matmul {peak:.0f} GFLOP/s")


def run_benchmark(main) -> None:
    """Call a benchmark's main(); a WhowroteError (not a run folder, a run without held-out
    works ...) is printed as one line and exits with its code, as the whowrote CLI does."""
    from whowrote.errors import WhowroteError

    try:
        main()
    except WhowroteError as exc:
        if os.environ.get("WHOWROTE_DEBUG"):
            raise
        print(f"whowrote: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


def publish(text: str, readme: str | None, section: str) -> None:
    """Print a benchmark's figures, and write them into the README's `section` if asked."""
    print(text)
    if readme:
        from whowrote.files import update_readme_section

        update_readme_section(readme, section, text)


def bert_flops_per_token(config, seq_len: int) -> float:
    """Forward FLOPs per token of a BERT encoder: 2 x (the linear layers' weights) per layer,
    plus attention's two seq_len x hidden products."""
    h, i, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    per_layer = 2 * (4 * h * h + 2 * h * i) + 2 * 2 * seq_len * h
    return layers * per_layer


if __name__ == "__main__":
    print(describe())
