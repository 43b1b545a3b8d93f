"""What the machine computes fast: bf16 where the hardware has it (CUDA with bf16, or a CPU with
AMX or AVX512-BF16 that torch may use), fp32 elsewhere. Training's mixed precision and the
judge's default precision both follow it, so a run says which it used.

    python -m whowrote.hardware        # e.g. "cpu: AVX512 kernels, bf16 native"
"""

from __future__ import annotations

import torch


def fast_bf16(device: torch.device | str = "cpu") -> bool:
    """bf16 autocast runs natively here. On a CPU torch was told to keep to AVX2
    (ATEN_CPU_CAPABILITY=avx2) bf16 would be emulated, many times slower than fp32."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu" or torch.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2"):
        return False
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe and probe()) or bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())


def describe(device: torch.device | str = "cpu") -> str:
    """One line for run headers and reports: the device, torch's CPU kernels, bf16 or not."""
    device = torch.device(device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.backends.cpu.get_cpu_capability()} kernels"
    return f"{device.type}: {where}, bf16 {'native' if fast_bf16(device) else 'not native'}"


if __name__ == "__main__":
    print(describe("cuda" if torch.cuda.is_available() else "cpu"))
