"""The contract: result and error shapes, and the JSON Schema that publishes them."""

import pytest
from jsonschema import ValidationError

from shared.api_contract import Block, PageResult, build_result, error_body
from shared.errors import BackendUnavailable, OCRError
from tests.support.schema import validate


def make_result(pages: list[PageResult]) -> dict:
    return build_result(
        backend="rapidocr",
        model="m",
        request_id="r1",
        image_name="a.png",
        document_type="pdf",
        pages=[p.to_json(number) for number, p in enumerate(pages, start=1)],
        raw_result={"rapidocr": {"pages": []}},
        processing_time=0.5,
        timings={"inference": 0.4, "total": 0.5},
        options={"dpi": 144},
        warnings=["w", "w"],
    )


def page(text: str, warnings: list[str] | None = None) -> PageResult:
    return PageResult(
        width=100,
        height=50,
        markdown=text,
        blocks=[Block("text", (1, 2, 30, 12), text, 0.98765, polygon=[(1, 2), (30, 2), (30, 12), (1, 12)])],
        warnings=warnings or [],
    )


def test_result_json_joins_pages_and_validates():
    body = make_result([page("one"), page("two", ["truncated"])])
    validate(body)
    validate(body, "ocr_result")
    assert body["markdown"] == "one\n\n---\n\ntwo"
    assert [p["page"] for p in body["pages"]] == [1, 2]
    assert body["pages"][0]["blocks"][0] == {
        "type": "text",
        "bbox": [1.0, 2.0, 30.0, 12.0],
        "text": "one",
        "score": 0.9877,
        "polygon": [[1.0, 2.0], [30.0, 2.0], [30.0, 12.0], [1.0, 12.0]],
    }
    # Page warnings stay on their page; the document's own are listed once.
    assert body["warnings"] == ["w"]
    assert body["pages"][1]["warnings"] == ["truncated"]
    assert body["source_markdown"] == body["markdown"]


def test_source_markdown_prefers_page_source():
    with_source = page("![](fig.png)")
    with_source.source_markdown = "![](data:image/png;base64,AAAA)"
    body = make_result([with_source])
    assert body["markdown"] == "![](fig.png)"
    assert body["source_markdown"] == "![](data:image/png;base64,AAAA)"


def test_error_body_validates():
    body = error_body(BackendUnavailable("backend 'mineru' is down"), backend="mineru", request_id="x")
    assert body["error"] == {"code": "backend_unavailable", "message": "backend 'mineru' is down", "retryable": True}
    validate(body)
    validate(body, "error")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("markdown"),
        lambda b: b["pages"][0]["blocks"][0].update(bbox=[1, 2, 3]),
        lambda b: b.update(success=False),
        lambda b: b["pages"].clear(),
        lambda b: b.update(boxes_image="http://evil/x.png"),
    ],
)
def test_schema_rejects_broken_results(mutate):
    body = make_result([page("x")])
    mutate(body)
    with pytest.raises(ValidationError):
        validate(body, "ocr_result")


def test_schema_rejects_error_without_code():
    body = error_body(OCRError("m"), backend=None, request_id="r")
    del body["error"]["code"]
    with pytest.raises(ValidationError):
        validate(body)
