"""The smoke gate: pages of known text through the orchestrator to each backend, judged by the
character error rate (CER) of what comes back.

    python -m deployment.smoke_gate [--backend NAME ...] [--orchestrator URL] [--out PATH]
                                    [--timeout SECONDS] [--wait SECONDS]

Every backend gets one rendered PNG page (unless its catalogue entry sets ``smoke_image = false``);
a backend whose entry sets ``smoke_pdf`` also gets a two-page born-digital PDF, sent with
``pdf_mode=ocr`` so that the backend (not the orchestrator's text-layer reader) reads it. Requests
carry ``cache=false``: the gate always reaches the model. A backend passes when every check answers
and is at or below its ``smoke_max_cer``.

Results go to ``<RUN_DIR>/smoke.json`` (merged with the backends the run did not check), one line per
backend to stdout. Exit status: 0 all passed, 1 some failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf
import requests
from PIL import Image, ImageDraw, ImageFont

from deployment import health_probe
from deployment.files import write_atomically
from deployment.plan import Plan, PlanError, make_plan
from orchestrator.text_metrics import character_error_rate, normalise
from shared.catalogue import CatalogueError
from shared.health import HealthState

DEFAULT_TIMEOUT = 300.0
RESULTS_NAME = "smoke.json"

#: Ordinary text with digits and punctuation; nothing OCR models commonly confuse (``|`` and ``l``),
#: no markdown characters (``#``, ``*``) that the markup stripping would remove.
IMAGE_LINES = [
    "Invoice 2024-0117 for 3 units at $42.50 each, due on 12 March.",
    "Total: $127.50 (VAT 20% included); thank you for your order!",
    "Ship to: 42 Baker Street, London NW1 6XE, United Kingdom.",
]
PDF_PAGES = [
    ["Order 5531: two boxes of paper, delivered on 3 May 2025.", "Payment received: $86.20, with thanks."],
    ["Page two lists the returns: 1 printer and 4 cables.", "Questions? Call +44 20 7946 0958 today."],
]


@dataclass(frozen=True)
class Limits:
    """What the gate asks of one backend."""

    max_cer: float
    pdf: bool
    image: bool = True


@dataclass(frozen=True)
class Check:
    """One input's outcome: its CER, or why there is none."""

    input: str
    cer: float | None = None
    error: str | None = None
    got: str = ""

    def passed(self, limit: float) -> bool:
        return self.error is None and self.cer is not None and self.cer <= limit

    def to_json(self) -> dict[str, Any]:
        return {"input": self.input, "cer": self.cer, "error": self.error}


class GateError(Exception):
    """A request that got no usable answer; the message is one line."""


# -- the known pages ------------------------------------------------------------------------------


def render_image(lines: list[str], *, font_size: int = 40, width: int = 1600, margin: int = 60) -> bytes:
    """A white PNG page with ``lines`` in black, the size of 10 pt text scanned at 300 dpi."""
    font = ImageFont.load_default(size=font_size)
    row = int(font_size * 1.9)
    image = Image.new("RGB", (width, 2 * margin + len(lines) * row), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((margin, margin + index * row), line, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def render_pdf(pages: list[list[str]], *, font_size: int = 16) -> bytes:
    """A born-digital PDF (a text layer, no images), one page per entry."""
    document = pymupdf.open()
    try:
        for lines in pages:
            page = document.new_page()
            for index, line in enumerate(lines):
                page.insert_text((72, 96 + index * font_size * 2), line, fontsize=font_size)
        return document.tobytes()
    finally:
        document.close()


# -- judging --------------------------------------------------------------------------------------

_HEADING = re.compile(r"^[ \t]*#+[ \t]*", re.MULTILINE)
_ESCAPE = re.compile(r"\\([^\w\s])")


def strip_markup(markdown: str) -> str:
    """The text of a backend's markdown, minimally: heading markers (``#`` at a line's start),
    every ``*`` (emphasis, bullets) and backslash escapes (``\\$`` -> ``$``) go; the rest stays."""
    return _ESCAPE.sub(r"\1", _HEADING.sub("", markdown)).replace("*", "")


def judge(input_name: str, reference: str, markdown: str) -> Check:
    """The CER of ``markdown`` (markup stripped) against ``reference``."""
    text = strip_markup(markdown)
    return Check(input_name, cer=character_error_rate(reference, text), got=normalise(text))


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def preview(text: str, length: int = 40) -> str:
    return text if len(text) <= length else text[:length] + "..."


def describe_failure(check: Check, limit: float) -> str:
    if check.error is not None:
        return f"{check.input}: {check.error}"
    return (
        f"{check.input} CER {percent(check.cer or 0.0)} > limit {limit * 100:g}% "
        f"(got: {json.dumps(preview(check.got), ensure_ascii=False)})"
    )


def describe_pass(checks: list[Check], limit: float) -> str:
    """``CER image 0.4%, pdf 0.0%/0.0%; limit 10%``."""
    parts: list[str] = []
    pdf = [percent(c.cer or 0.0) for c in checks if c.input.startswith("pdf")]
    parts += [f"{c.input} {percent(c.cer or 0.0)}" for c in checks if not c.input.startswith("pdf")]
    if pdf:
        parts.append("pdf " + "/".join(pdf))
    return f"CER {', '.join(parts)}; limit {limit * 100:g}%"


def verdict(checks: list[Check], limit: float) -> dict[str, Any]:
    """A backend's result from its checks: passed only when there are checks and all passed."""
    failures = [c for c in checks if not c.passed(limit)]
    rates = [c.cer for c in checks if c.cer is not None]
    passed = bool(checks) and not failures
    detail = describe_pass(checks, limit) if passed else "; ".join(describe_failure(c, limit) for c in failures)
    return {
        "passed": passed,
        "cer": max(rates) if rates else None,
        "detail": detail or "no checks",
        "checks": [c.to_json() for c in checks],
        "limit": limit,
        "at": time.time(),
    }


# -- asking the orchestrator ----------------------------------------------------------------------


def one_line(text: str, length: int = 300) -> str:
    return preview(" ".join(str(text).split()), length)


def answer_error(response: requests.Response) -> str:
    """``HTTP 503 backend_unavailable: ...`` from an answer that is not a success."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: the answer is not JSON ({one_line(response.text, 80)!r})"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"HTTP {response.status_code} {error.get('code')}: {one_line(error.get('message') or '')}"
    return f"HTTP {response.status_code}: no OCR result and no error in the answer"


def connection_error(exc: requests.RequestException, url: str) -> str:
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return f"cannot reach the orchestrator at {url}: {reason.group(1) if reason else one_line(str(exc), 120)}"


def post_document(
    session: requests.Session,
    url: str,
    backend: str,
    filename: str,
    data: bytes,
    fields: dict[str, str],
    timeout: float,
) -> dict[str, Any]:
    """POST ``{url}/ocr``; the success body, or :class:`GateError` with a one-line reason."""
    try:
        response = session.post(
            f"{url}/ocr",
            files={"file": (filename, data)},
            data={"backend": backend, "cache": "false", **fields},
            headers=health_probe.access_headers(),
            timeout=(min(10.0, timeout), timeout),
        )
    except requests.Timeout:
        raise GateError(f"no answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise GateError(connection_error(exc, url)) from None
    if response.status_code != 200:
        raise GateError(answer_error(response))
    try:
        body = response.json()
    except ValueError:
        raise GateError(answer_error(response)) from None
    if not isinstance(body, dict) or body.get("success") is not True:
        raise GateError(answer_error(response))
    return body


Post = Callable[[str, bytes, dict[str, str]], dict[str, Any]]


def image_checks(post: Post) -> list[Check]:
    try:
        body = post("smoke.png", render_image(IMAGE_LINES), {})
    except GateError as exc:
        return [Check("image", error=str(exc))]
    return [judge("image", "\n".join(IMAGE_LINES), str(body.get("markdown") or ""))]


def pdf_checks(post: Post) -> list[Check]:
    try:
        body = post("smoke.pdf", render_pdf(PDF_PAGES), {"pdf_mode": "ocr"})
    except GateError as exc:
        return [Check("pdf", error=str(exc))]
    pages = body.get("pages")
    if not isinstance(pages, list) or len(pages) != len(PDF_PAGES):
        count = len(pages) if isinstance(pages, list) else 0
        return [Check("pdf", error=f"{count} page(s) came back, not {len(PDF_PAGES)}")]
    return [
        judge(f"pdf page {number}", "\n".join(lines), str(page.get("markdown") or "") if isinstance(page, dict) else "")
        for number, (lines, page) in enumerate(zip(PDF_PAGES, pages, strict=True), start=1)
    ]


def limits_for(plan: Plan, name: str) -> Limits:
    """The backend's catalogue limits; a backend the catalogue does not list: the default, image only."""
    entry = plan.catalogue.backends.get(name)
    if entry is None:
        return Limits(plan.catalogue.smoke_max_cer, False)
    return Limits(entry.smoke_max_cer, entry.smoke_pdf, entry.smoke_image)


def check_backend(url: str, name: str, limits: Limits, timeout: float) -> dict[str, Any]:
    """Every check of one backend, through the orchestrator at ``url``."""
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment for our own services

        def post(filename: str, data: bytes, fields: dict[str, str]) -> dict[str, Any]:
            return post_document(session, url, name, filename, data, fields, timeout)

        checks = (image_checks(post) if limits.image else []) + (pdf_checks(post) if limits.pdf else [])
    return {**verdict(checks, limits.max_cer), "orchestrator": url}


def run_gate(
    plan: Plan, names: list[str], *, orchestrator_url: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, dict[str, Any]]:
    """Check ``names`` (side by side, one thread per backend); results by name, in the order given."""
    url = (orchestrator_url or plan.public.local_url).rstrip("/")
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="smoke") as pool:
        futures = {name: pool.submit(check_backend, url, name, limits_for(plan, name), timeout) for name in names}
        return {name: future.result() for name, future in futures.items()}


def wait_ready(url: str, names: list[str], seconds: float) -> None:
    """Up to ``seconds``: until the orchestrator's /health has every backend in ``names`` settled
    (healthy, unavailable, or unknown to it). Returns either way: the checks then say what is wrong."""
    deadline = time.monotonic() + seconds
    with requests.Session() as session:
        session.trust_env = False
        while time.monotonic() < deadline:
            try:
                known = session.get(f"{url}/health", headers=health_probe.access_headers(), timeout=5).json()[
                    "backends"
                ]
                settled = (HealthState.HEALTHY, HealthState.UNAVAILABLE)
                if all(name not in known or known[name]["status"] in settled for name in names):
                    return
            except (requests.RequestException, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.5)


# -- the results file -----------------------------------------------------------------------------


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """The results by backend from the file; ``{}`` when it is missing or not a results file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    backends = data.get("backends") if isinstance(data, dict) else None
    if not isinstance(backends, dict):
        return {}
    return {str(name): result for name, result in backends.items() if isinstance(result, dict)}


def merge_results(earlier: dict[str, dict[str, Any]], results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``results`` over ``earlier``: backends this run did not check keep their last result."""
    return {**earlier, **results}


def write_results(path: Path, results: dict[str, dict[str, Any]]) -> None:
    """Merge ``results`` into the file at ``path``, atomically (a temporary file, then os.replace)."""
    path = Path(path)
    merged = merge_results(read_results(path), results)
    orchestrator = next((r.get("orchestrator") for r in results.values() if r.get("orchestrator")), None)
    data = {"at": time.time(), "orchestrator": orchestrator, "backends": merged}
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def results_path(plan: Plan) -> Path:
    """Where startup.sh and deployment/smoke keep the results, and status.sh reads them."""
    return plan.run_dir / RESULTS_NAME


def format_cell(result: dict[str, Any] | None) -> str:
    """One whitespace-free token for a status table: ``pass``, ``FAIL``, or ``-`` (never run)."""
    if result is None:
        return "-"
    return "pass" if result.get("passed") is True else "FAIL"


def summary_line(name: str, result: dict[str, Any]) -> str:
    if result["passed"]:
        return f"{name}: smoke pass ({result['detail']})"
    return f"{name}: smoke FAILED: {result['detail']}"


# -- the command ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deployment/smoke", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend",
        action="append",
        dest="backends",
        metavar="NAME",
        help="a backend to check (repeat; default: every backend of the plan)",
    )
    parser.add_argument("--orchestrator", metavar="URL", help="default: this machine's orchestrator")
    parser.add_argument("--out", type=Path, metavar="PATH", help="default: <RUN_DIR>/smoke.json")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS", help="per request (default %(default)g)"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for the orchestrator to see the backends settled",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.wait < 0:
        parser.error("--timeout must be positive and --wait not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        plan = make_plan()
    except (PlanError, CatalogueError) as exc:
        print(f"smoke gate: {exc}", file=sys.stderr)
        return 2
    names = args.backends or [service.name for service in plan.backends]
    for name in names:
        if name not in plan.catalogue.backends:
            limit = plan.catalogue.smoke_max_cer * 100
            print(f"smoke gate: {name} is not in the catalogue: limit {limit:g}%, image only", file=sys.stderr)
    url = (args.orchestrator or plan.public.local_url).rstrip("/")
    if args.wait:
        wait_ready(url, names, args.wait)
    results = run_gate(plan, names, orchestrator_url=url, timeout=args.timeout)
    for name, result in results.items():
        print(summary_line(name, result), flush=True)
    out = args.out or results_path(plan)
    try:
        write_results(out, results)
    except OSError as exc:
        print(f"smoke gate: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0 if all(result["passed"] for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
