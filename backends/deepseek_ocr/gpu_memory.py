"""GPU memory figures from the process that holds the model.

With vLLM the model lives in the engine core, a child process, so torch's counters in the gunicorn
worker read about 0. NVML sees every process on the card: the figures are the pinned device's
used/total memory and what this worker and its descendants (the engine core) hold on it. The
transformers engine holds the model in this process, where torch's own counters are right.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

MIB = 2**20


def pinned_device(environ: dict[str, str] | None = None) -> str | None:
    """The first device of ``CUDA_VISIBLE_DEVICES`` (an index or a ``GPU-…`` UUID); None if unset/empty."""
    visible = (environ if environ is not None else os.environ).get("CUDA_VISIBLE_DEVICES", "")
    first = visible.split(",")[0].strip()
    return first or None


def process_tree(root: int, proc: Path = Path("/proc")) -> set[int]:
    """``root`` and its descendants, from ``/proc/<pid>/task/<tid>/children`` (Linux)."""
    found, pending = set(), [root]
    while pending:
        pid = pending.pop()
        if pid in found:
            continue
        found.add(pid)
        for children in (proc / str(pid) / "task").glob("*/children"):
            try:
                pending.extend(int(child) for child in children.read_text().split())
            except (OSError, ValueError):
                continue
    return found


def nvml_memory(nvml: Any, device: str | None, pids: set[int]) -> dict[str, float]:
    """Figures for ``device`` through an NVML binding (``pynvml``'s names); empty when it cannot tell."""
    if device is None or device.startswith("MIG-"):
        return {}
    try:
        nvml.nvmlInit()
    except Exception:
        return {}
    try:
        if device.isdigit():
            handle = nvml.nvmlDeviceGetHandleByIndex(int(device))
        else:
            handle = nvml.nvmlDeviceGetHandleByUUID(device)
        info = nvml.nvmlDeviceGetMemoryInfo(handle)
        ours = sum(
            (process.usedGpuMemory or 0)
            for process in nvml.nvmlDeviceGetComputeRunningProcesses(handle)
            if process.pid in pids
        )
        return {
            "gpu_memory_used_mib": round(info.used / MIB, 1),
            "gpu_memory_total_mib": round(info.total / MIB, 1),
            "gpu_memory_engine_mib": round(ours / MIB, 1),
        }
    except Exception:
        return {}
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:
            pass


def torch_memory() -> dict[str, float]:
    """What torch in this process holds (the transformers engine); empty before torch uses CUDA."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_initialized():
        return {}
    return {
        "gpu_memory_allocated_mib": round(torch.cuda.memory_allocated() / MIB, 1),
        "gpu_memory_reserved_mib": round(torch.cuda.memory_reserved() / MIB, 1),
    }
