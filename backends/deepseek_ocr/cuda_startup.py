"""CUDA-safe start-up: the environment set before anything in this process imports torch or vLLM.

vLLM starts its engine core in a child process, by default with ``fork``; a forked child cannot use
CUDA once the parent has initialised it. ``torch.cuda.is_available()`` initialises the CUDA driver
unless ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` (then it asks NVML), and vLLM switches to ``spawn`` only
when ``torch.cuda.is_initialized()``, which that call does not set. vLLM sets the NVML variable
itself, but only at ``import vllm``: too late for our preflight. So the rule here is both: NVML for
every check in this process, and ``spawn`` for the engine core whatever was checked first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

log = logging.getLogger(__name__)

#: What the gunicorn worker and every process it starts must have.
CUDA_SAFE_ENVIRONMENT = {
    # torch.cuda.is_available() / device_count() through NVML: no CUDA context in this process.
    "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
    # The engine core is started with spawn: it never inherits a CUDA state.
    "VLLM_WORKER_MULTIPROC_METHOD": "spawn",
}
#: CUDA numbers devices like nvidia-smi does (PCI order), so DEEPSEEK_GPU is nvidia-smi's index and
#: NVML's (gpu_memory.py). Kept when the starter chose otherwise.
DEVICE_ORDER = ("CUDA_DEVICE_ORDER", "PCI_BUS_ID")


def make_cuda_safe(environ: MutableMapping[str, str] | None = None) -> None:
    """Apply :data:`CUDA_SAFE_ENVIRONMENT` (overriding other values, with a warning) and the device order."""
    env = os.environ if environ is None else environ
    for name, value in CUDA_SAFE_ENVIRONMENT.items():
        previous = env.get(name)
        if previous not in (None, value):
            log.warning("%s=%s would let vLLM fork after CUDA is initialised; using %s", name, previous, value)
        env[name] = value
    env.setdefault(*DEVICE_ORDER)
