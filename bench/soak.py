#!/usr/bin/env python3
"""Memory under a long load: thousands of uncached OCR requests through the orchestrator to the real
rapidocr and tesseract backends, with the resident memory (RSS) of every process sampled as it goes.

Two stacks run side by side in one run, requests alternating between them, so the machine's noise
falls on both: the backends with the environment the tests start them with (``baseline``) against
the same backends with the settings under test (``--variant-env KEY=VALUE``; by default the
deployment's own backend environment, :data:`deployment.plan.BACKEND_ENVIRONMENT`). Pages vary in
size and text, so the engines' buffers are reallocated as they are in real use.

    .venv/bin/python bench/soak.py [--requests 2000] [--clients 2] [--variant-env KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from support import exit_cleanly_on_sigterm

from deployment.plan import BACKEND_ENVIRONMENT
from tests.support.documents import text_image
from tests.support.processes import Service, start_backend, start_orchestrator, wait_healthy, worker_pids

WORDS = [
    "invoice",
    "total",
    "amount",
    "due",
    "reference",
    "section",
    "paragraph",
    "agreement",
    "dated",
    "quick",
    "brown",
    "fox",
    "lazy",
    "dog",
]
BACKENDS = ("rapidocr", "tesseract")


def rss_mib(service: Service) -> float:
    """The master's and its workers' resident memory together."""
    total = 0
    for pid in [service.process.pid, *worker_pids(service.process.pid)]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        # A zombie (a worker just replaced) has no VmRSS line.
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def page(rng: random.Random) -> bytes:
    """A small page of random words, of a random size (small: thousands of requests in minutes on
    two cores; varying: the engines' buffers are reallocated as in real use)."""
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(1, 6))]
    return text_image(lines, width=rng.choice((320, 480, 640, 800)), font_size=rng.choice((20, 28, 36)), margin=20)


@dataclass
class Arm:
    name: str
    services: dict[str, Service]
    samples: list[dict[str, float]] = field(default_factory=list)
    errors: int = 0
    done: int = 0

    def sample(self) -> None:
        self.samples.append({"requests": float(self.done), **{n: rss_mib(s) for n, s in self.services.items()}})
        figures = ", ".join(f"{name} {value:.0f} MiB" for name, value in self.samples[-1].items() if name != "requests")
        print(f"{self.name} after {self.done} requests ({self.errors} errors): {figures}", flush=True)


@contextmanager
def arm(name: str, log_dir: Path, env: dict[str, str]) -> Iterator[Arm]:
    with ExitStack() as stack:
        backends = {}
        for backend in BACKENDS:
            service = start_backend(backend, log_dir, env=env)
            stack.callback(service.stop)
            backends[backend] = service
        orchestrator = start_orchestrator({n: s.url for n, s in backends.items()}, log_dir, env={"CACHE_ENABLED": "0"})
        stack.callback(orchestrator.stop)
        for service in backends.values():
            wait_healthy(service)
        wait_healthy(orchestrator, need_model=False)
        yield Arm(name, {**backends, "orchestrator": orchestrator})


def drive(arms: list[Arm], total: int, clients: int, seed: int) -> None:
    """``total`` requests per arm, ``clients`` at a time per arm, the arms' requests interleaved."""
    lock = threading.Lock()
    sent = {a.name: 0 for a in arms}
    step = max(1, total // 10)

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        session = requests.Session()
        while True:
            with lock:
                pending = [a for a in arms if sent[a.name] < total]
                if not pending:
                    return
                target = min(pending, key=lambda a: sent[a.name])
                sent[target.name] += 1
                number = sent[target.name]
            backend = BACKENDS[number % len(BACKENDS)]
            try:
                answer = session.post(
                    target.services["orchestrator"].url + "/ocr",
                    files={"file": ("p.png", page(rng), "image/png")},
                    data={"backend": backend, "cache": "false"},
                    timeout=120,
                )
                failed = answer.status_code != 200
            except requests.RequestException:
                failed = True
            with lock:
                target.done += 1
                target.errors += int(failed)
                if target.done % step == 0:
                    target.sample()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients * len(arms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per arm")
    parser.add_argument("--clients", type=int, default=2, help="per arm")
    parser.add_argument("--warmup", type=int, default=40, help="per arm, before the first sample")
    parser.add_argument("--variant-env", action="append", default=[], help="KEY=VALUE for the second arm")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    variant = dict(item.split("=", 1) for item in args.variant_env) if args.variant_env else dict(BACKEND_ENVIRONMENT)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        arms = [
            stack.enter_context(arm("baseline", Path(tmp) / "a", {})),
            stack.enter_context(arm("variant", Path(tmp) / "b", variant)),
        ]
        drive(arms, args.warmup, args.clients, seed=1)
        for each in arms:
            each.done = 0
            each.samples.clear()  # the warm-up's own samples are not the baseline
            each.sample()
        drive(arms, args.requests, args.clients, seed=2)
    minutes = (time.monotonic() - started) / 60
    print(f"\n{args.requests} uncached requests per arm (half rapidocr, half tesseract), {minutes:.1f} min")
    print(f"variant: {variant}\n")
    print("| arm | process | RSS after warm-up | peak | end | growth | errors |")
    print("|---|---|---|---|---|---|---|")
    for each in arms:
        for process in each.services:
            series = [s[process] for s in each.samples]
            print(
                f"| {each.name} | {process} | {series[0]:.0f} MiB | {max(series):.0f} MiB | {series[-1]:.0f} MiB | "
                f"{series[-1] - series[0]:+.0f} MiB | {each.errors} |"
            )
    if args.json:
        args.json.write_text(json.dumps({a.name: a.samples for a in arms}, indent=2))


if __name__ == "__main__":
    main()
