"""The front proxy: Debian's nginx in front of the orchestrator, configured from the plan.

Why a buffering proxy: gunicorn's workers must never wait on a client. nginx reads each request
whole (headers under a timeout, the body spooled to disk) before the orchestrator sees it, so slow
headers, slow uploads and idle connections cost nginx a few kilobytes each and the orchestrator
nothing. It also holds what must be shared by every orchestrator process: the per-client connection
limit and the rate limit (its shared-memory zones), keyed by a verified API key or else by the
client's address, so rotating made-up keys gets a client nothing. Its own errors (too large, too
slow, too many, orchestrator down) answer in the service's JSON error shape, with the codes from
:mod:`shared.errors`. Event streams pass unbuffered (the orchestrator sends ``X-Accel-Buffering: no``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.config import env_int, env_list, env_str
from shared.errors import BadRequest, OCRError, OrchestratorUnavailable, PayloadTooLarge, RateLimited
from shared.uploads import UploadLimits

#: nginx's own error statuses and what the client is told for each (status, error).
FRONT_ERRORS: dict[int, tuple[int, type[OCRError], str]] = {
    400: (400, BadRequest, "the request is not valid HTTP, or its headers are too large"),
    413: (413, PayloadTooLarge, "the request body is over the upload limit"),
    414: (400, BadRequest, "the request URL is too long"),
    494: (400, BadRequest, "the request headers are too large"),
    429: (429, RateLimited, "too many requests or connections from this client; retry later"),
    500: (503, OrchestratorUnavailable, "the front proxy failed to pass the request on; retry shortly"),
    502: (503, OrchestratorUnavailable, "the orchestrator is not answering (starting or restarting); retry shortly"),
    503: (503, OrchestratorUnavailable, "the orchestrator is not answering (starting or restarting); retry shortly"),
    504: (503, OrchestratorUnavailable, "the orchestrator did not answer in time; retry shortly"),
}
#: Not a real route: nginx answers it itself (the supervisor's readiness check of the front).
FRONT_HEALTH_PATH = "/_front/health"


@dataclass(frozen=True)
class FrontSettings:
    """The front's limits; every one from the environment (``FRONT_*``), defaults declared here."""

    #: ``nginx`` (the standard deployment) or ``off`` (the orchestrator listens on the public port).
    mode: str = "nginx"
    #: Seconds for a client to send the request headers, and between two reads of its body.
    header_timeout: int = 10
    body_timeout: int = 30
    #: Seconds between two writes to a slow reader of the answer.
    send_timeout: int = 60
    #: Seconds between two reads from the orchestrator (a synchronous PDF can take long; event
    #: streams send a keep-alive comment every 15 s).
    read_timeout: int = 3600
    #: Open connections per client address at once; more get 429.
    max_connections_per_client: int = 512
    #: Work requests (POST) per minute per client (verified key, else address); 0: no limit. Shared
    #: with the orchestrator's own setting of the same name.
    rate_per_minute: int = 0
    rate_burst: int = 10
    api_keys: list[str] = field(default_factory=list)
    limits: UploadLimits = field(default_factory=UploadLimits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FrontSettings:
        environ = dict(os.environ if env is None else env)
        return cls(
            mode=env_str("FRONT", cls.mode, environ),
            header_timeout=env_int("FRONT_HEADER_TIMEOUT", cls.header_timeout, environ, minimum=1),
            body_timeout=env_int("FRONT_BODY_TIMEOUT", cls.body_timeout, environ, minimum=1),
            send_timeout=env_int("FRONT_SEND_TIMEOUT", cls.send_timeout, environ, minimum=1),
            read_timeout=env_int("FRONT_READ_TIMEOUT", cls.read_timeout, environ, minimum=1),
            max_connections_per_client=env_int(
                "FRONT_MAX_CONNECTIONS_PER_CLIENT", cls.max_connections_per_client, environ, minimum=1
            ),
            rate_per_minute=env_int("RATE_LIMIT_PER_MINUTE", cls.rate_per_minute, environ, minimum=0),
            rate_burst=env_int("RATE_LIMIT_BURST", cls.rate_burst, environ, minimum=1),
            api_keys=env_list("ORCHESTRATOR_API_KEYS", [], environ)
            + env_list("ORCHESTRATOR_OPERATOR_KEYS", [], environ),
            limits=UploadLimits.from_env(environ),
        )


def _quoted(value: str) -> str:
    """A string as an nginx config token: double-quoted, with ``\\``, ``"`` and ``$`` escaped."""
    if any(ord(char) < 32 for char in value):
        raise ValueError("an API key with a control character cannot be written into nginx's configuration")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def _error_location(status: int) -> str:
    shown, error, message = FRONT_ERRORS[status]
    body = {
        "success": False,
        "backend": None,
        "error": {"code": error.code, "message": message, "retryable": error.retryable},
        "request_id": "$request_id",
    }
    text = json.dumps(body).replace("'", "\\'")
    retry = "        add_header Retry-After 5 always;\n" if error.retryable else ""
    return f"""    location = /_front/error/{status} {{
        internal;
        default_type application/json;
        add_header X-Request-ID $request_id always;
{retry}        return {shown} '{text}';
    }}
"""


def _key_maps(keys: list[str]) -> str:
    """``$tenant``: which configured key the request carries (``X-API-Key`` or ``Authorization:
    Bearer``), else empty; the rate limit's key is that, else the client's address."""
    # nginx matches map strings ignoring case: keys equal but for case are one entry (a duplicate
    # would stop nginx); the orchestrator itself still checks each key exactly.
    unique: dict[str, int] = {}
    for index, key in enumerate(keys):
        unique.setdefault(key.lower(), index)
    by_header = "".join(f"        {_quoted(key)} k{index};\n" for key, index in unique.items())
    by_bearer = "".join(f"        {_quoted('bearer ' + key)} k{index};\n" for key, index in unique.items())
    return f"""    map $http_x_api_key $key_by_header {{
        default "";
{by_header}    }}
    map $http_authorization $key_by_bearer {{
        default "";
{by_bearer}    }}
    map "$key_by_header$key_by_bearer" $client_key {{
        "" $binary_remote_addr;
        default "$key_by_header$key_by_bearer";
    }}
    map $request_method $work_key {{
        POST $client_key;
        default "";
    }}
"""


def render(
    settings: FrontSettings,
    *,
    listen: str,
    upstream: str,
    run_dir: Path,
    log_dir: Path,
    as_root: bool | None = None,
) -> str:
    """nginx.conf for a front listening on ``listen`` (``host:port``) in front of ``upstream``."""
    as_root = os.geteuid() == 0 if as_root is None else as_root
    temp = run_dir / "nginx"
    rate = settings.rate_per_minute
    limit_req_zone = f"    limit_req_zone $work_key zone=work:10m rate={rate}r/m;\n" if rate else ""
    limit_req = f"        limit_req zone=work burst={settings.rate_burst} nodelay;\n" if rate else ""
    error_pages = "".join(
        f"        error_page {status} ={shown} /_front/error/{status};\n"
        for status, (shown, _, _) in FRONT_ERRORS.items()
    )
    errors = "".join(_error_location(status) for status in FRONT_ERRORS)
    # Root's workers run as root too (the whole stack runs as the user who started it; as nobody
    # they could not write the request bodies they buffer into the private run directory).
    user = "user root;\n" if as_root else ""
    return f"""# Generated by deployment/startup.sh (deployment/front.py) from the catalogue of services.
{user}daemon off;
# One process (no master): it exits with supervisord and nothing of it can keep the port.
master_process off;
pid {run_dir / "nginx.pid"};
error_log {log_dir / "front-error.log"} warn;

events {{
    worker_connections 8192;
}}

http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};

    client_header_timeout {settings.header_timeout}s;
    client_body_timeout {settings.body_timeout}s;
    send_timeout {settings.send_timeout}s;
    keepalive_timeout 15s;
    client_max_body_size {settings.limits.max_body_bytes};
    client_body_buffer_size 1m;
    large_client_header_buffers 4 16k;
    reset_timedout_connection on;

{_key_maps(settings.api_keys)}    limit_conn_zone $binary_remote_addr zone=per_client:10m;
{limit_req_zone}    limit_conn_status 429;
    limit_req_status 429;

    upstream orchestrator {{
        server {upstream};
        keepalive 64;
    }}

    server {{
        listen {listen};
{error_pages}
        location = {FRONT_HEALTH_PATH} {{
            default_type application/json;
            return 200 '{{"status": "healthy", "service": "front"}}';
        }}

        location / {{
            limit_conn per_client {settings.max_connections_per_client};
{limit_req}            proxy_pass http://orchestrator;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # Set, never appended: what the client sends in these is not believed.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_request_buffering on;
            proxy_read_timeout {settings.read_timeout}s;
            proxy_send_timeout 60s;
            proxy_connect_timeout 5s;
            proxy_next_upstream off;
        }}

{errors}    }}
}}
"""


def prepare_dirs(run_dir: Path) -> None:
    """The temp folders nginx buffers into: private to this user."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "nginx" / name).mkdir(mode=0o700, parents=True, exist_ok=True)
