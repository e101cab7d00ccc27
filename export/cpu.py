"""The CPU that export's measurements ran on, as the CPU itself reports it.

Whether onnxruntime's U8S8 (uint8 activations × int8 weights) kernels can
saturate depends on the vector extensions: on x86-64 with AVX2 or AVX-512
but no VNNI they use ``vpmaddubsw``, which adds two u8×s8 products into a
16-bit integer and clamps it; with VNNI (``vpdpbusd``) or AMX the products
accumulate in 32 bits and nothing saturates. So every report that quotes
int8 figures names the flags read from /proc/cpuinfo, never a fixed phrase.
(py-cpuinfo is not a dependency; /proc/cpuinfo is what it reads on Linux.)
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# flags that decide which int8 kernels onnxruntime's MLAS picks
INT8_FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp")
VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def parse_cpuinfo(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> tuple[str, set[str], int | None]:
    """(model name, feature flags, physical core count) as /proc/cpuinfo states them; empty where unreadable.

    The one reader of /proc/cpuinfo: export's int8 reports and the benchmarks'
    machine description both use it (x86 says "model name"/"flags", ARM
    "Model"/"Features").
    """
    path = Path(cpuinfo)
    if not path.is_file():
        return "", set(), None
    name, flags, cores = "", set(), set()
    physical_id = "0"
    for line in path.read_text(errors="replace").splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key in ("model name", "Model", "cpu model") and not name:
            name = value
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            cores.add((physical_id, value))
    return name, flags, len(cores) or None


def read_cpu(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> dict[str, Any]:
    """Model name and int8-relevant flags; ``u8s8_can_saturate`` is True on x86-64 AVX2/AVX-512 without VNNI."""
    name, flags, _ = parse_cpuinfo(cpuinfo)
    arch = platform.machine()
    x86 = arch.lower() in ("x86_64", "amd64", "i686", "i386") or "avx2" in flags or "sse2" in flags
    vnni = any(f in flags for f in VNNI_FLAGS)
    return {
        "cpu": name or platform.processor() or arch,
        "arch": arch,
        "flags": [f for f in INT8_FLAGS if f in flags],
        "flags_read": bool(flags),
        "vnni": vnni,
        "u8s8_can_saturate": bool(flags) and x86 and not vnni,
    }


def describe_cpu(cpu: dict[str, Any]) -> str:
    """One phrase for a report, e.g. 'Intel(R) Xeon(R) Processor (x86_64; avx2, avx512_vnni): VNNI, ...'."""
    if not cpu.get("flags_read"):
        return f"{cpu['cpu']} ({cpu['arch']}; CPU flags not readable, so whether U8S8 saturates here is unknown)"
    flags = ", ".join(cpu["flags"]) or "none of " + ", ".join(INT8_FLAGS)
    if cpu["vnni"]:
        verdict = "VNNI present, so U8S8 products accumulate in 32 bits and cannot saturate on this machine"
    elif cpu["u8s8_can_saturate"]:
        verdict = "no VNNI, so onnxruntime's U8S8 kernels use vpmaddubsw and 8-bit weights can saturate here"
    else:
        verdict = "not an x86 AVX2/AVX-512 CPU without VNNI, so U8S8 does not saturate here"
    return f"{cpu['cpu']} ({cpu['arch']}; {flags}): {verdict}"
