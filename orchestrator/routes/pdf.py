"""``POST /pdf/preview``: a PDF's pages rendered by the orchestrator before anything runs (a client
shows them as thumbnails; at the dpi a result used they are that result's clean page images). The
upload is read and checked as ``/ocr/pdf`` reads it: the same limits and the same errors."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from orchestrator.document import Document
from orchestrator.page_images import PREVIEW_DPI_FIELD, PREVIEW_PAGES, preview_dpi, render_preview
from orchestrator.routes.inputs import form_fields
from orchestrator.services import services
from shared.errors import UnsupportedMediaType
from shared.http_common import read_uploaded_file

bp = Blueprint("pdf", __name__)


@bp.post("/pdf/preview")
def preview() -> Response:
    svc = services()
    fields = form_fields()
    dpi = preview_dpi(fields.get(PREVIEW_DPI_FIELD.name))  # before the document: a bad field is a 400 at once
    upload = read_uploaded_file(svc.config.limits)
    document = Document.from_upload(upload.data, upload.filename, svc.config.limits)
    if document.fmt.kind != "pdf":
        raise UnsupportedMediaType(
            f"/pdf/preview takes a PDF; this upload is {document.fmt.name.upper()} (an image is its own preview)"
        )
    shown = render_preview(document.data, svc.config.limits, spec=fields.get(PREVIEW_PAGES.name), dpi=dpi)
    return jsonify(
        {
            "success": True,
            "image_name": document.upload_name,
            "page_count": shown.page_count,
            "dpi": shown.dpi,
            "pages": [
                {"page": number, "width": image.width, "height": image.height, "image": image.data_uri()}
                for number, image in shown.pages
            ],
        }
    )
