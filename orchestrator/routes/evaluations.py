"""Evaluations (#23): a labelled set through several backends, scored against its ground truth.

``POST /evaluations`` (a zip ``archive``, several ``file`` parts, or ``sample=true``), ``GET
/evaluations`` (the caller's, newest first), ``GET /evaluations/<id>`` (status, progress, results,
leaderboard), its ``/events``, ``/export`` and ``/documents/<name>``, ``DELETE`` to cancel, and
``GET /evaluations/sample`` (the bundled sample set as a zip). An evaluation is its API key's, as a
job is: to another key it is 404."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for

from orchestrator.access import request_tenant
from orchestrator.evaluation_runner import EvaluationWork, evaluation_runner
from orchestrator.evaluation_scores import Scored, leaderboard
from orchestrator.evaluation_store import FINAL, Evaluation
from orchestrator.labelled_set import LabelledDocument, SetLimits, read_archive, read_labelled_set
from orchestrator.ocr_request import parse_request
from orchestrator.routes.event_stream import event_stream
from orchestrator.routes.inputs import form_fields
from orchestrator.sample_set import sample_files, sample_zip
from orchestrator.services import Services, services
from orchestrator.text_normalization import Normalization
from shared.api_contract import utc_timestamp
from shared.config import ConfigError, parse_bool
from shared.errors import EvaluationNotFound, InvalidOption, MissingFile, UnknownBackend
from shared.options import FormField

bp = Blueprint("evaluations", __name__)

ARCHIVE_FIELD = "archive"
FILE_FIELD = "file"
SAMPLE = FormField("sample", "boolean", "Evaluate the bundled sample set (GET /evaluations/sample) instead.", False)
EVALUATION_BACKENDS = FormField("backends", "string", "Comma-separated backends to evaluate, order kept.")
NORMALIZATION = FormField(
    "normalization",
    "string",
    "Steps applied to both texts before scoring: `all` (default), `none`, a comma list of `markdown` (strip "
    "markdown syntax and HTML tags), `unicode` (NFKC), `case`, `whitespace`, or `-step` to leave one out.",
    "all",
)
EXPORT_FORMATS = ("csv", "json")
CSV_COLUMNS = (
    "document",
    "kind",
    "backend",
    "cer",
    "wer",
    "word_f1",
    "pages",
    "seconds",
    "seconds_per_page",
    "cached",
    "error",
    "normalization",
)


def chosen_backends(svc: Services, fields: dict[str, str]) -> tuple[str, ...]:
    """``backends=a,b`` (order kept, repeats dropped), each configured; default: the default backend."""
    spec = fields.get(EVALUATION_BACKENDS.name, "").strip()
    names = list(dict.fromkeys(name.strip() for name in spec.split(",") if name.strip())) or [
        svc.config.default_backend
    ]
    unknown = [name for name in names if name not in svc.registry]
    if unknown:
        raise UnknownBackend(f"unknown backend(s) {', '.join(unknown)}; available: {', '.join(svc.registry.names())}")
    g.backend_name = ",".join(names)
    return tuple(names)


def uploaded_set(svc: Services, fields: dict[str, str]) -> list[LabelledDocument]:
    limits = SetLimits(svc.config.limits, svc.config.evaluation_max_documents)
    try:
        sample = parse_bool(SAMPLE.name, fields.get(SAMPLE.name) or SAMPLE.default_text)
    except ConfigError as exc:
        raise InvalidOption(str(exc)) from None
    archive = request.files.get(ARCHIVE_FIELD)
    parts = request.files.getlist(FILE_FIELD)
    if sum((sample, archive is not None, bool(parts))) != 1:
        raise MissingFile(
            f"send the labelled set as one zip '{ARCHIVE_FIELD}', as '{FILE_FIELD}' parts (documents, their "
            f"name.txt or name.md, labels.csv), or {SAMPLE.name}=true for the bundled sample set; exactly one"
        )
    if sample:
        files = list(sample_files())
    elif archive is not None:
        files = read_archive(archive.read(), limits)
    else:
        files = [(part.filename or "", part.read()) for part in parts]
    return read_labelled_set(files, limits)


@bp.post("/evaluations")
def create_evaluation() -> tuple[Response, int, dict[str, str]]:
    svc = services()
    svc.database.require_writable()
    fields = form_fields()
    backends = chosen_backends(svc, fields)
    normalization = Normalization.parse(fields.get(NORMALIZATION.name))
    labelled = uploaded_set(svc, fields)
    # The evaluation's own fields are not OCR options; the boxes picture is not needed for scoring.
    options = {key: value for key, value in fields.items() if key not in (SAMPLE.name, NORMALIZATION.name)}
    options.setdefault("boxes_image", "false")
    requests = [
        (
            doc,
            parse_request(
                options,
                document=doc.document,
                backends=backends,
                request_id=g.request_id,
                published=svc.registry.published,
            ),
        )
        for doc in labelled
    ]
    work = EvaluationWork(requests, backends, normalization)
    evaluation_id = evaluation_runner().submit(work, requests[0][1].options.to_json(), request_tenant())
    url = url_for("evaluations.evaluation_status", evaluation_id=evaluation_id)
    return jsonify({"id": evaluation_id, "status": "queued", "url": url}), 202, {"Location": url}


def _evaluation(evaluation_id: str) -> Evaluation:
    found = services().evaluations.get(evaluation_id)
    if found is None or found.tenant != request_tenant():
        raise EvaluationNotFound(f"no evaluation {evaluation_id!r} (unknown, or it expired)")
    return found


def summary_json(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.id,
        "status": evaluation.status,
        "created": utc_timestamp(evaluation.created_at),
        "finished": utc_timestamp(evaluation.finished_at) if evaluation.finished_at else None,
        "backends": evaluation.backends,
        "documents": len(evaluation.documents),
        "progress": services().evaluations.progress(evaluation),
        "url": url_for("evaluations.evaluation_status", evaluation_id=evaluation.id),
    }


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    store = services().evaluations
    results = store.results(evaluation.id)
    body: dict[str, Any] = {
        **summary_json(evaluation),
        "normalization": evaluation.normalization,
        "options": evaluation.options,
        "documents": evaluation.documents,
        "results": [row.to_json() for row in results],
        "leaderboard": leaderboard(results, evaluation.backends),
        "events_url": url_for("evaluations.evaluation_events", evaluation_id=evaluation.id),
    }
    if evaluation.error is not None:
        body["error"] = evaluation.error
    return body


@bp.get("/evaluations")
def list_evaluations() -> Response:
    found = services().evaluations.listed(request_tenant())
    return jsonify({"evaluations": [summary_json(evaluation) for evaluation in found]})


@bp.get("/evaluations/sample")
def sample_set() -> Response:
    """The bundled sample set as a zip (what ``sample=true`` evaluates)."""
    return Response(
        sample_zip(),
        content_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="sample-set.zip"'},
    )


@bp.get("/evaluations/<evaluation_id>")
def evaluation_status(evaluation_id: str) -> Response:
    return jsonify(evaluation_json(_evaluation(evaluation_id)))


@bp.delete("/evaluations/<evaluation_id>")
def cancel_evaluation(evaluation_id: str) -> Response:
    if not _evaluation(evaluation_id).final:
        evaluation_runner().cancel(evaluation_id)
    return jsonify(evaluation_json(_evaluation(evaluation_id)))


@bp.get("/evaluations/<evaluation_id>/events")
def evaluation_events(evaluation_id: str) -> Response:
    """Server-sent events: ``status``, ``result`` (one document × backend, scored) and ``progress``
    (that backend's documents done, failed, total); ``end`` after the final status."""
    _evaluation(evaluation_id)
    store = services().evaluations
    return event_stream(lambda seq: store.events_after(evaluation_id, seq), lambda: store.status(evaluation_id), FINAL)


def export_csv(evaluation: Evaluation, results: list[Scored]) -> str:
    normalization = "+".join(name for name, on in evaluation.normalization.items() if on) or "none"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in results:
        data = row.to_json()
        data["error"] = (row.error or {}).get("code", "")
        data["normalization"] = normalization
        data["cached"] = "true" if row.cached else "false"
        writer.writerow({column: "" if data[column] is None else data[column] for column in CSV_COLUMNS})
    return buffer.getvalue()


@bp.get("/evaluations/<evaluation_id>/export")
def export_evaluation(evaluation_id: str) -> Response:
    """``format=csv`` (one row per document × backend) or ``format=json`` (the whole evaluation)."""
    evaluation = _evaluation(evaluation_id)
    fmt = request.args.get("format", "json").strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise InvalidOption(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    filename = f"evaluation-{evaluation.id}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        text = export_csv(evaluation, services().evaluations.results(evaluation.id))
        return Response(text, content_type="text/csv; charset=utf-8", headers=disposition)
    body = json.dumps(evaluation_json(evaluation), ensure_ascii=False, indent=1)
    return Response(body, content_type="application/json", headers=disposition)


@bp.get("/evaluations/<evaluation_id>/documents/<path:name>")
def evaluation_document(evaluation_id: str, name: str) -> Response:
    """One document: its reference and each backend's markdown, pages (blocks, no boxes picture) and scores."""
    _evaluation(evaluation_id)
    found = services().evaluations.document(evaluation_id, name)
    if found is None:
        raise EvaluationNotFound(f"evaluation {evaluation_id!r} has no document {name!r}")
    results = {}
    for backend, (scored, markdown, pages) in found["results"].items():
        data = scored.to_json()
        results[backend] = {
            "markdown": markdown,
            "pages": pages,
            **{key: data[key] for key in ("cer", "wer", "word_f1", "seconds", "error")},
        }
    return jsonify(
        {
            "name": found["name"],
            "kind": found["kind"],
            "pages": found["pages"],
            "reference": found["reference"],
            "results": results,
        }
    )
