"""``ocr-service``: the OCR service from the shell. Results go to stdout, progress and errors to
stderr, and the exit status tells the class of error (see :data:`ocr_client.errors.EXIT_CODES`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TaskProgressColumn, TextColumn
from rich.table import Table

from ocr_client.client import API_KEY_ENV, DEFAULT_URL, URL_ENV, Job, OCRClient
from ocr_client.errors import EXIT_CODES, BadInput, OCRServiceError, from_error

USAGE_ERROR = 2
INTERRUPTED = 130


def _exit_codes_text() -> str:
    return "exit status:\n" + "\n".join(f"  {status}  {meaning}" for status, _, meaning in EXIT_CODES)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocr-service",
        description="OCR with the OCR service's backends: one page, a comparison, a long PDF as a job, an "
        "evaluation of backends on labelled documents.",
        epilog=f"{_exit_codes_text()}\n\nThe API itself: <url>/docs and <url>/openapi.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help=f"the service (default: ${URL_ENV}, else {DEFAULT_URL})")
    parser.add_argument("--api-key", help=f"the API key (default: ${API_KEY_ENV})")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for an answer (default 600)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "-O",
            "--option",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a form field of the API (dpi=200, page_range=1-3, pdf_mode=auto, cache=false, ...); repeatable",
        )

    ocr = commands.add_parser("ocr", help="one document through one backend; prints its markdown")
    ocr.add_argument("file", help="an image or a PDF")
    ocr.add_argument("--backend", help="default: the service's default backend")
    output = ocr.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print the markdown (the default)")
    output.add_argument("--json", action="store_true", help="print the whole result as JSON")
    with_options(ocr)

    compare = commands.add_parser("compare", help="one document through several backends; prints a summary")
    compare.add_argument("file")
    compare.add_argument("--backends", help="comma-separated (default: every healthy backend)")
    compare.add_argument("--reference", metavar="TRUTH.txt", help="a text file of the truth: CER and WER per backend")
    output = compare.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print each backend's markdown")
    output.add_argument("--json", action="store_true", help="print the whole comparison as JSON")
    with_options(compare)

    job = commands.add_parser("job", help="a document as a job, with a progress bar per backend; prints its markdown")
    job.add_argument("file")
    target = job.add_mutually_exclusive_group()
    target.add_argument("--backend", help="default: the service's default backend")
    target.add_argument("--backends", help="comma-separated: a comparison job")
    job.add_argument("--json", action="store_true", help="print the finished job as JSON")
    job.add_argument("--no-progress", action="store_true", help="no progress bars")
    with_options(job)

    evaluate = commands.add_parser(
        "evaluate",
        help="a labelled set through backends, scored against its ground truth; prints the leaderboard",
        description="DIR holds documents (images, PDFs), each with its ground truth name.txt or name.md, and "
        "optionally labels.csv (name,kind); a .zip of that works too. --sample evaluates the service's bundled set.",
    )
    evaluate.add_argument("dir", nargs="?", help="the labelled set: a folder or a .zip")
    evaluate.add_argument("--sample", action="store_true", help="the service's bundled sample set instead of DIR")
    evaluate.add_argument("--backends", help="comma-separated (default: the service's default backend)")
    evaluate.add_argument(
        "--normalization",
        help="before scoring: all (default), none, or steps markdown,unicode,case,whitespace (or -step to drop one)",
    )
    evaluate.add_argument("--export", metavar="OUT.csv|OUT.json", help="write the results there (by extension)")
    evaluate.add_argument("--json", action="store_true", help="print the finished evaluation as JSON")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bars")
    with_options(evaluate)

    backends = commands.add_parser("backends", help="the backends and their health")
    backends.add_argument("--refresh", action="store_true", help="ask every backend now")
    backends.add_argument("--json", action="store_true")
    return parser


def parse_options(pairs: Sequence[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"--option wants NAME=VALUE, got {pair!r}")
        options[name.strip()] = value
    return options


def read_reference(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the reference {path}: {exc}", code="unreadable_file") from None


def print_json(out: Console, body: Any) -> None:
    out.file.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")


def job_markdown(job: dict[str, Any]) -> str:
    """A finished job's markdown: its result's, or each backend's under a heading for a comparison."""
    result = job.get("result") or {}
    if "results" not in result:
        return str(result.get("markdown", ""))
    return "\n\n".join(f"## {name}\n\n{_markdown_or_error(body)}" for name, body in result["results"].items())


def _markdown_or_error(body: dict[str, Any]) -> str:
    if body.get("success"):
        return str(body.get("markdown", ""))
    error = body.get("error") or {}
    return f"(error [{error.get('code')}] {error.get('message')})"


def run_ocr(client: OCRClient, args: argparse.Namespace, out: Console) -> int:
    result = client.ocr(args.file, args.backend, **parse_options(args.option))
    if args.json:
        print_json(out, result)
    else:
        out.file.write(result["markdown"].rstrip("\n") + "\n")
    return 0


def run_compare(client: OCRClient, args: argparse.Namespace, out: Console) -> int:
    reference = read_reference(args.reference)
    result = client.compare(args.file, args.backends, reference, **parse_options(args.option))
    if args.json:
        print_json(out, result)
        return 0
    if args.markdown:
        out.file.write(
            "\n\n".join(f"## {name}\n\n{_markdown_or_error(body)}" for name, body in result["results"].items()) + "\n"
        )
        return 0
    scores = result.get("reference_scores") or {}
    table = Table(title="comparison")
    for column in ("backend", "result", "seconds", *(("CER", "WER") if scores else ())):
        table.add_column(column)
    for name, body in result["results"].items():
        outcome = "ok" if body.get("success") else f"[{body.get('error', {}).get('code')}]"
        row = [name, outcome, f"{result['times'].get(name, 0):.2f}"]
        if scores:
            score = scores.get(name)
            row += [f"{score['cer']:.3f}", f"{score['wer']:.3f}"] if score else ["-", "-"]
        table.add_row(*row)
    out.print(table)
    for pair in result["agreement"]:
        out.print(f"agreement {' vs '.join(pair['backends'])}: {pair['agreement']:.3f}")
    return 0


def follow(job: Job, err: Console) -> None:
    """A progress bar per backend, moved by the job's events, until the stream ends."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(), console=err
    ) as bars:
        tasks: dict[str, TaskID] = {}
        for event in job.events():
            if event.type != "progress":
                continue
            backend = str(event.data["backend"])
            if backend not in tasks:
                tasks[backend] = bars.add_task(backend, total=None)
            bars.update(tasks[backend], completed=event.data["pages_done"], total=event.data["pages_total"])


def run_job(client: OCRClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    options = parse_options(args.option)
    if args.backends:
        job = client.submit_job(args.file, backends=args.backends, **options)
    else:
        job = client.submit_job(args.file, args.backend, **options)
    err.print(f"job {job.id}")
    if not args.no_progress:
        follow(job, err)
    final = dict(job.wait())
    if args.json:
        print_json(out, final)
    elif final["status"] == "cancelled":
        err.print(f"job {job.id} was cancelled")
        return 1
    else:
        out.file.write(job_markdown(final).rstrip("\n") + "\n")
    return 0


def follow_evaluation(client: OCRClient, evaluation_id: str, err: Console) -> None:
    """A progress bar per backend (documents done of the set), until the stream ends."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(), console=err
    ) as bars:
        tasks: dict[str, TaskID] = {}
        for event in client.evaluation_events(evaluation_id):
            if event.type != "progress":
                continue
            backend = str(event.data["backend"])
            if backend not in tasks:
                tasks[backend] = bars.add_task(backend, total=event.data["total"])
            bars.update(tasks[backend], completed=event.data["done"], total=event.data["total"])


def wait_evaluation(client: OCRClient, evaluation_id: str, poll: float = 0.5) -> dict[str, Any]:
    while True:
        evaluation = client.evaluation(evaluation_id)
        if evaluation["status"] in ("done", "failed", "cancelled"):
            return dict(evaluation)
        time.sleep(poll)


def _rate(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def leaderboard_table(evaluation: dict[str, Any]) -> Table:
    steps = [name for name, on in evaluation["normalization"].items() if on]
    table = Table(title=f"leaderboard (normalised: {', '.join(steps) or 'nothing'}; micro, macro in brackets)")
    for column in ("backend", "documents", "failed", "CER", "WER", "word F1", "pages/s"):
        table.add_column(column)
    for entry in evaluation["leaderboard"]:
        macro = entry["macro"]
        table.add_row(
            entry["backend"],
            str(entry["documents"]),
            str(entry["failed"]),
            *(f"{_rate(entry[rate])} ({_rate(macro[rate])})" for rate in ("cer", "wer", "word_f1")),
            _rate(entry["pages_per_second"]),
        )
    return table


def run_evaluate(client: OCRClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    if bool(args.dir) == bool(args.sample):
        raise BadInput("name the labelled set (DIR) or --sample, one of them")
    accepted = client.evaluate(
        args.dir,
        args.backends,
        normalization=args.normalization,
        sample=args.sample,
        **parse_options(args.option),
    )
    evaluation_id = accepted["id"]
    err.print(f"evaluation {evaluation_id}")
    if not args.no_progress:
        follow_evaluation(client, evaluation_id, err)
    evaluation = wait_evaluation(client, evaluation_id)
    if evaluation["status"] == "failed":
        error = evaluation.get("error") or {}
        raise from_error(error, error.get("status"))
    if args.export:
        fmt = "json" if args.export.lower().endswith(".json") else "csv"
        try:
            with open(args.export, "wb") as handle:
                handle.write(client.export_evaluation(evaluation_id, fmt))
        except OSError as exc:
            raise BadInput(f"cannot write {args.export}: {exc.strerror or exc}", code="unwritable_file") from None
        err.print(f"wrote {args.export}")
    if args.json:
        print_json(out, evaluation)
    else:
        out.print(leaderboard_table(evaluation))
        for result in evaluation["results"]:
            if result["error"]:
                error = result["error"]
                # Not rich markup: "[code]" would be read as a style tag and vanish.
                failure = f"[{error.get('code')}] {error.get('message', '')}"
                out.print(f"{result['backend']} failed {result['document']}: {failure}", markup=False)
    if evaluation["status"] == "cancelled":
        err.print(f"evaluation {evaluation_id} was cancelled")
        return 1
    return 0


def run_backends(client: OCRClient, args: argparse.Namespace, out: Console) -> int:
    listing = client.backends(refresh=args.refresh)
    if args.json:
        print_json(out, listing)
        return 0
    table = Table(title="backends")
    for column in ("name", "status", "model", "reason"):
        table.add_column(column)
    for backend in listing["backends"]:
        name = backend.get("name", "?") + (" (default)" if backend.get("name") == listing["default"] else "")
        table.add_row(name, backend.get("status", "?"), backend.get("model") or "-", backend.get("reason") or "")
    out.print(table)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console script ``ocr-service`` (pyproject.toml ``[project.scripts]``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Console(file=sys.stdout, soft_wrap=True)
    err = Console(file=sys.stderr)
    client = OCRClient.from_env(args.url, args.api_key, timeout=args.timeout)
    try:
        if args.command == "ocr":
            return run_ocr(client, args, out)
        if args.command == "compare":
            return run_compare(client, args, out)
        if args.command == "job":
            return run_job(client, args, out, err)
        if args.command == "evaluate":
            return run_evaluate(client, args, out, err)
        return run_backends(client, args, out)
    except OCRServiceError as exc:
        sys.stderr.write(f"ocr-service: error {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("ocr-service: interrupted\n")
        return INTERRUPTED
    except Exception as exc:  # never a traceback: say what failed, exit as "other"
        sys.stderr.write(f"ocr-service: unexpected error: {type(exc).__name__}: {exc}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
