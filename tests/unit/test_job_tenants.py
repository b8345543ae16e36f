"""With API keys, a job is its key's: another key gets the answer for an unknown id (404
``job_not_found``) on every job endpoint; without keys jobs stay shared. An older database file gets
the ``tenant`` column."""

import sqlite3

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from orchestrator.database import Database
from orchestrator.job_store import JobStore
from tests.support.client import post_file
from tests.support.documents import text_image
from tests.support.processes import UNREACHABLE_URL

IMAGE = text_image(["x"], width=200)
OWNER, OTHER = {"X-API-Key": "key-one"}, {"Authorization": "Bearer key-two"}


def client(tmp_path, **settings):
    config = OrchestratorConfig(backends={"rapidocr": [UNREACHABLE_URL]}, data_dir=tmp_path, **settings)
    return create_app(config, monitor=False).test_client()


def test_another_keys_job_is_not_found(tmp_path):
    http = client(tmp_path, api_keys=["key-one", "key-two"])
    created = post_file(http, IMAGE, "/jobs", "a.png", headers=OWNER)
    assert created.status_code == 202
    job = created.get_json()
    unknown = http.get("/jobs/" + "0" * 32, headers=OTHER)
    assert unknown.status_code == 404
    for method, url in (("GET", job["status_url"]), ("GET", job["events_url"]), ("DELETE", job["status_url"])):
        answer = http.open(url, method=method, headers=OTHER)
        assert answer.status_code == 404, (method, url)
        assert answer.get_json()["error"]["code"] == "job_not_found"
    assert http.get(job["status_url"], headers=OWNER).status_code == 200
    assert http.delete(job["status_url"], headers=OWNER).status_code == 200


def test_without_keys_jobs_are_shared(tmp_path):
    http = client(tmp_path)
    job = post_file(http, IMAGE, "/jobs", "a.png").get_json()
    assert http.get(job["status_url"]).status_code == 200


def test_an_older_file_gets_the_new_columns(tmp_path):
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, backends TEXT NOT NULL, "
            "filename TEXT, options TEXT NOT NULL, error TEXT, result TEXT, owner_pid INTEGER NOT NULL, "
            "created_at REAL NOT NULL, updated_at REAL NOT NULL, expires_at REAL)"
        )
        old.execute(
            "INSERT INTO jobs VALUES ('old', 'ocr', 'succeeded', '[]', NULL, '{}', NULL, '{\"a\": 1}', 1, 0, 0, NULL)"
        )
    store = JobStore(Database(path), 60)
    assert store.get("old").tenant is None and store.total_bytes() == len('{"a": 1}')
    job_id = store.create("ocr", ["x"], None, {}, tenant="t1")
    assert store.get(job_id).tenant == "t1"
