"""The front's nginx configuration, generated from the plan: nginx itself accepts it, keys are
escaped into it, the rate limit is keyed by a verified key or the address, errors are our JSON."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from deployment import front
from deployment.plan import installed_nginx
from shared.errors import ERROR_CODES


def rendered(tmp_path: Path, **env: str) -> str:
    settings = front.FrontSettings.from_env(env)
    front.prepare_dirs(tmp_path)
    return front.render(
        settings, listen="127.0.0.1:18080", upstream="127.0.0.1:18079", run_dir=tmp_path, log_dir=tmp_path
    )


def nginx_accepts(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    nginx = installed_nginx()
    assert nginx, "nginx is not installed (apt-get install -y nginx; `make test` does it)"
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    return subprocess.run([nginx, "-t", "-e", str(tmp_path / "e.log"), "-c", str(conf)], capture_output=True, text=True)


def test_nginx_accepts_the_configuration_with_keys_that_need_escaping(tmp_path):
    keys = 'plain,Plain,quo"te,dollar$sign,back\\slash'
    text = rendered(tmp_path, ORCHESTRATOR_API_KEYS=keys, RATE_LIMIT_PER_MINUTE="30", RATE_LIMIT_BURST="4")
    checked = nginx_accepts(tmp_path, text)
    assert checked.returncode == 0, checked.stderr
    assert '"quo\\"te" k2;' in text and '"dollar\\$sign" k3;' in text
    assert text.count('"plain" k0;') == 1 and '"Plain"' not in text, "nginx maps ignore case: one entry"
    assert "limit_req_zone $work_key zone=work:10m rate=30r/m;" in text
    assert "limit_req zone=work burst=4 nodelay;" in text


def test_rate_limit_key_is_the_verified_key_else_the_address_and_only_posts_count(tmp_path):
    text = rendered(tmp_path, ORCHESTRATOR_API_KEYS="k", RATE_LIMIT_PER_MINUTE="6")
    client_key = re.search(r'map "\$key_by_header\$key_by_bearer" \$client_key \{(.*?)\}', text, re.S)
    assert client_key and '"" $binary_remote_addr;' in client_key.group(1)
    assert re.search(r"map \$request_method \$work_key \{\s*POST \$client_key;\s*default \"\";", text)


def test_no_rate_limit_zone_without_a_rate_and_no_user_line_for_others(tmp_path):
    text = front.render(
        front.FrontSettings(),
        listen="127.0.0.1:1",
        upstream="127.0.0.1:2",
        run_dir=tmp_path,
        log_dir=tmp_path,
        as_root=False,
    )
    assert "limit_req" not in text.replace("limit_req_status", "") and "user root" not in text
    assert "limit_conn per_client 512;" in text and "master_process off;" in text


def test_every_error_the_front_answers_is_a_registered_code_as_json(tmp_path):
    text = rendered(tmp_path)
    for status, (shown, error, _) in front.FRONT_ERRORS.items():
        assert f"error_page {status} ={shown} /_front/error/{status};" in text
        body = re.search(rf"location = /_front/error/{status} \{{.*?return {shown} '(.*?)';", text, re.S)
        assert body, status
        parsed = json.loads(body.group(1).replace("$request_id", "r"))
        assert parsed["error"]["code"] == error.code and error.code in ERROR_CODES
        assert ERROR_CODES[error.code].status == shown


def test_body_limit_is_the_orchestrators_whole_body_bound(tmp_path):
    text = rendered(tmp_path, OCR_MAX_UPLOAD_BYTES="1000000")
    limit = int(re.search(r"client_max_body_size (\d+);", text).group(1))
    assert limit == front.FrontSettings.from_env({"OCR_MAX_UPLOAD_BYTES": "1000000"}).limits.max_body_bytes


def test_a_key_with_a_control_character_is_refused(tmp_path):
    with pytest.raises(ValueError, match="control character"):
        rendered(tmp_path, ORCHESTRATOR_API_KEYS="a\nb")
