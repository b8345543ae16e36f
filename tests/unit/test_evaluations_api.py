"""The evaluation endpoints through the app with a stand-in backend: the sample set end to end
(results, leaderboard, events, export, a document's view, the list), files as parts, bad input as
clear errors, cancel, another key's evaluation, and what a restart leaves."""

import csv
import io
import json
import time
import zipfile

import pytest
from urllib3 import encode_multipart_formdata

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from tests.support import standin_http
from tests.support.documents import bomb_png, text_image
from tests.support.schema import validate

PAGE = text_image(["x"], width=200)


@pytest.fixture
def standin():
    server = standin_http.serve("delayed", delay=0)
    yield server
    server.shutdown()


def app_for(tmp_path, server, **settings):
    config = OrchestratorConfig(
        backends={"delayed": [f"http://127.0.0.1:{server.server_port}"]},
        default_backend="delayed",
        data_dir=tmp_path,
        **settings,
    )
    return create_app(config, monitor=False)


def post(http, parts, headers=None):
    body, content_type = encode_multipart_formdata(parts)
    return http.post("/evaluations", data=body, content_type=content_type, headers=headers or {})


def wait(http, url, headers=None):
    for _ in range(200):
        body = http.get(url, headers=headers or {}).get_json()
        if body["status"] in ("done", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"not final: {body}")


def test_the_sample_set_end_to_end(tmp_path, standin):
    http = app_for(tmp_path, standin).test_client()
    created = post(http, [("sample", "true"), ("normalization", "-case")])
    assert created.status_code == 202, created.get_json()
    accepted = created.get_json()
    validate(accepted, "evaluation_accepted")
    assert created.headers["Location"] == accepted["url"]
    evaluation = wait(http, accepted["url"])
    validate(evaluation, "evaluation")
    assert evaluation["status"] == "done" and evaluation["progress"] == {
        "delayed": {"done": 4, "total": 4, "failed": 0}
    }
    assert evaluation["normalization"] == {"markdown": True, "unicode": True, "case": False, "whitespace": True}
    assert [d["name"] for d in evaluation["documents"]] == ["letter", "receipt", "table", "two-columns"]
    assert len(evaluation["results"]) == 4 and evaluation["results"][0]["word_f1"] == 0.0  # the stand-in says "ok"
    [leader] = evaluation["leaderboard"]
    assert leader["backend"] == "delayed" and set(leader["by_kind"]) == {"letter", "receipt", "table", "two-column"}

    events = http.get(accepted["url"] + "/events").data.decode()
    kinds = [line.removeprefix("event: ") for line in events.splitlines() if line.startswith("event: ")]
    assert kinds.count("result") == 4 and kinds[-2:] == ["status", "end"] and "progress" in kinds

    exported = http.get(accepted["url"] + "/export?format=csv")
    assert exported.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.data.decode())))
    assert [row["document"] for row in rows] == ["letter", "receipt", "table", "two-columns"]
    assert rows[0]["normalization"] == "markdown+unicode+whitespace" and rows[0]["cached"] == "false"
    whole = json.loads(http.get(accepted["url"] + "/export?format=json").data)
    assert whole["leaderboard"] == evaluation["leaderboard"]
    assert http.get(accepted["url"] + "/export?format=xml").status_code == 400

    document = http.get(accepted["url"] + "/documents/receipt").get_json()
    validate(document, "evaluation_document")
    assert "TOTAL 32.31" in document["reference"] and document["results"]["delayed"]["markdown"] == "ok"
    assert document["results"]["delayed"]["pages"][0]["page"] == 1
    missing = http.get(accepted["url"] + "/documents/nothing")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "evaluation_not_found"

    listing = http.get("/evaluations").get_json()
    validate(listing, "evaluation_list")
    assert [e["id"] for e in listing["evaluations"]] == [accepted["id"]]

    sample = http.get("/evaluations/sample")
    assert sample.content_type == "application/zip"
    assert "sample-set/labels.csv" in zipfile.ZipFile(io.BytesIO(sample.data)).namelist()


def test_files_as_parts(tmp_path, standin):
    http = app_for(tmp_path, standin).test_client()
    parts = [("file", ("a.png", PAGE)), ("file", ("a.txt", b"ok")), ("file", ("labels.csv", b"a,form\n"))]
    evaluation = wait(http, post(http, parts).get_json()["url"])
    assert evaluation["results"][0]["cer"] == 0.0 and evaluation["results"][0]["kind"] == "form"


def zipped(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("parts", "status", "code"),
    [
        ([("backends", "delayed")], 400, "missing_file"),
        ([("sample", "true"), ("archive", ("s.zip", b"x"))], 400, "missing_file"),
        ([("sample", "true"), ("backends", "delayed,nope")], 400, "unknown_backend"),
        ([("sample", "true"), ("normalization", "lowercase")], 400, "invalid_option"),
        ([("sample", "true"), ("dpi", "-3")], 400, "invalid_option"),
        ([("archive", ("s.zip", zipped([("../a.png", PAGE)])))], 400, "unsafe_archive"),
        ([("archive", ("s.zip", b"PK not a zip"))], 400, "unsafe_archive"),
        ([("archive", ("s.zip", zipped([("a.png", PAGE)])))], 422, "invalid_labelled_set"),
        ([("archive", ("s.zip", zipped([("a.txt", b"\0" * 60_000_000)])))], 413, "payload_too_large"),
        ([("file", ("a.png", bomb_png())), ("file", ("a.txt", b"x"))], 413, "too_many_pixels"),
        ([("file", ("a.doc", b"plain words")), ("file", ("a.txt", b"x"))], 415, "unsupported_media_type"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, standin, parts, status, code):
    http = app_for(tmp_path, standin).test_client()
    answer = post(http, parts)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["code"] == code
    assert http.get("/evaluations").get_json()["evaluations"] == []


def test_cancel_keeps_what_finished(tmp_path):
    slow = standin_http.serve("delayed", delay=0.5)
    try:
        http = app_for(tmp_path, slow).test_client()
        url = post(http, [("sample", "true")]).get_json()["url"]
        for _ in range(100):
            if http.get(url).get_json()["results"]:
                break
            time.sleep(0.05)
        cancelled = http.delete(url).get_json()
        assert cancelled["status"] == "cancelled"
        time.sleep(1.0)
        after = http.get(url).get_json()
        assert after["status"] == "cancelled" and 1 <= len(after["results"]) < 4
        assert http.delete(url).get_json()["status"] == "cancelled"  # a final one stays as it is
    finally:
        slow.shutdown()


def test_another_keys_evaluation_is_not_found(tmp_path, standin):
    http = app_for(tmp_path, standin, api_keys=["key-one", "key-two"]).test_client()
    owner, other = {"X-API-Key": "key-one"}, {"X-API-Key": "key-two"}
    url = post(http, [("sample", "true")], owner).get_json()["url"]
    wait(http, url, owner)
    for method, path in (("GET", url), ("GET", url + "/events"), ("DELETE", url), ("GET", url + "/export")):
        answer = http.open(path, method=method, headers=other)
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "evaluation_not_found"
    assert http.get("/evaluations", headers=other).get_json()["evaluations"] == []
    assert len(http.get("/evaluations", headers=owner).get_json()["evaluations"]) == 1


def test_a_restart_keeps_finished_ones_and_fails_running_ones(tmp_path, standin):
    http = app_for(tmp_path, standin).test_client()
    done = wait(http, post(http, [("sample", "true")]).get_json()["url"])
    app = app_for(tmp_path, standin)
    store = app.extensions["ocr_orchestrator"].evaluations
    stuck = store.create(["delayed"], {}, {}, [("a", "k", 1, "x")], None)
    again = app_for(tmp_path, standin).test_client()  # its start fails what no process runs any more
    assert again.get(done["url"]).get_json()["results"] == done["results"]
    failed = again.get(f"/evaluations/{stuck}").get_json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "orchestrator_restarted"
