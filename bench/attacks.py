#!/usr/bin/env python3
"""The hostile-load attacks of issue #16 that give a figure, run again against the standard stack
(nginx front, gevent orchestrator, echo backends: the service's own cost, no model), each printing
what it gives now. The starvation mix is bench/starvation.py; memory under load is bench/soak.py.

    .venv/bin/python bench/attacks.py [--json FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from PIL import Image
from support import exit_cleanly_on_sigterm

from tests.support.documents import text_image, text_pdf
from tests.support.hostile import stack
from tests.support.processes import worker_pids

PAGE = text_image(["attack"])


def post(
    url: str, path: str, data: bytes, name: str, mime: str, timeout: float = 60, **fields: Any
) -> requests.Response:
    return requests.post(url + path, files={"file": (name, data, mime)}, data=fields, timeout=timeout)


def wait_job(url: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = requests.get(f"{url}/jobs/{job_id}", timeout=10).json()
        if body.get("status") in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    return body


def hung_backend(tmp: Path) -> dict[str, Any]:
    """SIGSTOP a backend: how long until its requests are 503, how long such a 503 takes, the
    other backend meanwhile, and what the stopped one works off after SIGCONT."""
    with stack(tmp, {"echo": {}, "victim": {}}) as system:
        victim = system.backends["victim"]
        pids = [victim.process.pid, *worker_pids(victim.process.pid)]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        stopped = time.monotonic()
        first_503 = None
        slowest = 0.0
        while time.monotonic() - stopped < 30:
            started = time.monotonic()
            try:
                answer = post(system.url, "/ocr", PAGE, "p.png", "image/png", timeout=10, backend="victim")
                status = answer.status_code
            except requests.RequestException:
                status = 0
            took = time.monotonic() - started
            slowest = max(slowest, took)
            if status == 503 and first_503 is None:
                first_503 = time.monotonic() - stopped
                break
        refusals = []
        for _ in range(20):
            started = time.monotonic()
            post(system.url, "/ocr", PAGE, "p.png", "image/png", timeout=10, backend="victim")
            refusals.append(time.monotonic() - started)
        other = post(system.url, "/ocr", PAGE, "p.png", "image/png", backend="echo").status_code
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        time.sleep(2)
        metrics = requests.get(victim.url + "/metrics", timeout=10).text
        dropped = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("ocr_rejected_total{") and 'reason="abandoned"' in line
        )
        return {
            "seconds from SIGSTOP to the first 503": round(first_503 or -1, 2),
            "slowest request before it": round(slowest, 2),
            "503 answer time, worst of 20": round(max(refusals), 3),
            "another backend meanwhile": other,
            "requests the backend dropped after SIGCONT (abandoned)": dropped,
        }


def disk(tmp: Path) -> dict[str, Any]:
    """A 20-page PDF job, then the same job resubmitted 10 times (cache hits: no OCR work)."""
    with stack(tmp, {"echo": {}}) as system:
        data_dir = tmp / "data"  # where tests.support.processes puts the orchestrator's database
        pdf = text_pdf([[f"page {n} " + "lorem ipsum dolor " * 30] for n in range(1, 21)])

        def size() -> int:
            return sum(f.stat().st_size for f in data_dir.glob("orchestrator.sqlite3*"))

        first = post(system.url, "/jobs", pdf, "twenty.pdf", "application/pdf", backend="echo", pdf_mode="ocr").json()
        wait_job(system.url, first["job_id"])
        time.sleep(6)  # a maintenance round: checkpoint and vacuum
        after_first = size()
        for _ in range(10):
            job = post(system.url, "/jobs", pdf, "twenty.pdf", "application/pdf", backend="echo", pdf_mode="ocr").json()
            wait_job(system.url, job["job_id"])
        time.sleep(6)
        files = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in data_dir.iterdir() if p.is_file()}
        return {
            "database after one 20-page job (bytes)": after_first,
            "added by 10 resubmissions (bytes)": size() - after_first,
            "data directory mode": oct(stat.S_IMODE(data_dir.stat().st_mode)),
            "file modes": files,
        }


def queued_memory(tmp: Path) -> dict[str, Any]:
    """40 jobs of a 40 MB document each to a backend that takes 30 s a page: how many are taken, and
    the orchestrator's resident memory before and after."""
    noise = Image.frombytes("RGB", (3800, 3800), random.Random(1).randbytes(3800 * 3800 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG", compress_level=1)
    large = buffer.getvalue()

    def rss() -> float:
        total = 0
        for pid in worker_pids(system.orchestrator.process.pid):
            status = Path(f"/proc/{pid}/status").read_text()
            total += next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")), 0)
        return round(total / 1024)

    with stack(tmp, {"slow": {"ECHO_DELAY_S": "30"}}) as system:
        before = rss()
        statuses = [
            post(system.url, "/jobs", large, "large.png", "image/png", backend="slow", cache="false").status_code
            for _ in range(40)
        ]
        return {
            "upload (MB)": round(len(large) / 1e6, 1),
            "accepted (202)": statuses.count(202),
            "refused (503)": statuses.count(503),
            "orchestrator RSS before (MiB, all workers)": before,
            "after (MiB)": rss(),
        }


def keys_and_origins(tmp: Path) -> dict[str, Any]:
    env = {"RATE_LIMIT_PER_MINUTE": "6", "RATE_LIMIT_BURST": "2"}
    with stack(tmp, {"echo": {}}, env=env) as system:
        rotating = [
            requests.post(
                system.url + "/ocr",
                files={"file": ("p.png", PAGE, "image/png")},
                data={"backend": "echo"},
                headers={"X-API-Key": f"fake-{n}"},
                timeout=30,
            ).status_code
            for n in range(12)
        ]
    with stack(tmp / "b", {"echo": {}}) as system:
        cross = requests.post(
            system.url + "/jobs",
            files={"file": ("p.png", PAGE, "image/png")},
            data={"backend": "echo"},
            headers={"Origin": "http://evil.example"},
            timeout=30,
        )
        backends = requests.get(system.url + "/backends", timeout=10).text
    return {
        "rotating fake keys: got through (of 12)": rotating.count(200),
        "cross-site POST /jobs without a key": f"{cross.status_code} {cross.json()['error']['code']}",
        "/backends shows internal URLs": "127.0.0.1" in backends,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, attack in (
            ("hung backend", hung_backend),
            ("disk", disk),
            ("queued memory", queued_memory),
            ("keys and origins", keys_and_origins),
        ):
            results[name] = attack(Path(tmp) / name.replace(" ", "-"))
            print(f"{name}: {json.dumps(results[name])}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
