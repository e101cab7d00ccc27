"""Describe the machine a benchmark ran on, so its figures can be read.

Latency means little without the CPU (and its vector extensions: AVX2,
AVX-512, VNNI decide whether int8 pays off), the cores the process may use,
the library versions and the load the machine was under.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from digitkit.export.cpu import parse_cpuinfo

# CPU flags that change which kernels onnxruntime, OpenVINO and PyTorch pick
FLAGS_OF_INTEREST = (
    "sse4_2", "avx", "avx2", "fma", "f16c",
    "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16",
    "asimd", "asimddp", "sve",
)  # fmt: skip

LIBRARIES = ("digitkit", "numpy", "onnxruntime", "onnxruntime-gpu", "opencv-python", "openvino", "torch", "matplotlib")


def _cpuinfo() -> tuple[str, set[str], int | None]:
    """Model name, feature flags and physical core count from /proc/cpuinfo (Linux)."""
    name, flags, physical = parse_cpuinfo()
    return name or platform.processor() or platform.machine(), flags, physical


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    """1/5/15-minute load averages: a busy machine makes every figure slower."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _gpus() -> list[str]:
    """NVIDIA GPUs as nvidia-smi lists them (empty when there is none or no driver)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def onnxruntime_providers() -> list[str]:
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def describe_machine() -> dict[str, Any]:
    name, flags, physical = _cpuinfo()
    return {
        "cpu": name,
        "cpu_flags": [f for f in FLAGS_OF_INTEREST if f in flags],
        "logical_cores": os.cpu_count(),
        "physical_cores": physical,
        "usable_cores": usable_cores(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "libraries": _versions(),
        "onnxruntime_providers": onnxruntime_providers(),
        "gpus": _gpus(),
        "load_average_at_start": load_average(),
    }


def one_line(machine: dict[str, Any]) -> str:
    """The machine in one line, for the table's header."""
    flags = ", ".join(machine["cpu_flags"]) or "no SIMD flags read"
    libs = ", ".join(f"{k} {v}" for k, v in machine["libraries"].items() if v)
    gpu = "; ".join(machine["gpus"]) or "no GPU"
    load = machine.get("load_average_at_start")
    load_text = f"; load average {load[0]:.2f} at start" if load else ""
    return (
        f"{machine['cpu']} ({machine['usable_cores']} usable cores, {machine['memory_gib']} GiB; {flags}); "
        f"{gpu}; {machine['os']}; Python {machine['python']}; {libs}{load_text}"
    )
