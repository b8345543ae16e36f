"""Static checks of the container and Kubernetes files (no Docker engine or cluster here): they parse,
and name the ports, GPUs, apps and images of the catalogue of services (deployment/services.toml),
the right volumes, probes, sources and gunicorn configurations."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from deployment.plan import BACKEND_ENVIRONMENT
from orchestrator.config import parse_backends
from orchestrator.registry import DNS_PREFIX
from shared.catalogue import catalogue
from tests.support.processes import REPO_ROOT

DEPLOYMENT = REPO_ROOT / "deployment"
SERVICES = catalogue()
PORTS = {**{name: entry.port for name, entry in SERVICES.backends.items()}, "orchestrator": SERVICES.orchestrator.port}
APPS = {**{name: entry.app for name, entry in SERVICES.backends.items()}, "orchestrator": SERVICES.orchestrator.app}
GPU_BACKENDS = {name: str(entry.gpu) for name, entry in SERVICES.backends.items() if entry.gpu is not None}
ENV_PREFIXES = {name: entry.env_prefix for name, entry in SERVICES.backends.items()}
DOCKERFILES = {
    **{name: entry.container_image for name, entry in SERVICES.backends.items()},
    "orchestrator": SERVICES.orchestrator.container_image,
}


def app_exists(app: str) -> bool:
    module = app.split(":")[0]
    return (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file()


def gunicorn_command(words: list[str]) -> tuple[str, str]:
    """(config file, app) of a gunicorn command line."""
    assert "gunicorn" in words, words
    config = words[words.index("-c") + 1]
    return config, words[-1]


def expected_config(service: str) -> str:
    return "deployment/gunicorn/" + ("orchestrator.conf.py" if service == "orchestrator" else "backend.conf.py")


# -- Dockerfiles ------------------------------------------------------------------------------------


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


@pytest.mark.parametrize("image", sorted(set(DOCKERFILES.values())))
def test_dockerfile_copies_what_exists_and_runs_gunicorn_with_its_config(image):
    instructions = dockerfile_instructions(DEPLOYMENT / "docker" / f"{image}.Dockerfile")
    copies = [shlex.split(argument) for kind, argument in instructions if kind == "COPY"]
    assert copies
    for words in copies:
        for source in words[:-1]:
            assert (REPO_ROOT / source).exists(), f"{image}: COPY source {source} is not in the repository"
    copied = {words[0].rstrip("/") for words in copies}
    assert "deployment" in copied, "the image has the gunicorn configs, setup.sh and the health probe"
    runs = " ".join(argument for kind, argument in instructions if kind == "RUN")
    assert "deployment/setup.sh" in runs, "images install through the same set-up path as servers"
    (cmd,) = [argument for kind, argument in instructions if kind == "CMD"]
    config, app = gunicorn_command(yaml.safe_load(cmd))
    services = [service for service, name in DOCKERFILES.items() if name == image]
    assert config == expected_config(services[0]) and (REPO_ROOT / config).is_file()
    assert app in {APPS[service] for service in services} and app_exists(app)
    (healthcheck,) = [argument for kind, argument in instructions if kind == "HEALTHCHECK"]
    assert "deployment/health_probe.py" in healthcheck and "|| exit 1" in healthcheck
    exposed = {int(port) for kind, argument in instructions if kind == "EXPOSE" for port in argument.split()}
    assert {PORTS[service] for service in services} <= exposed
    if image == "cpu-backend":  # the CPU backends' container gets the environment the plan gives them
        environment = " ".join(argument for kind, argument in instructions if kind == "ENV")
        for name, value in BACKEND_ENVIRONMENT.items():
            assert f"{name}={value}" in environment, f"{image}: ENV {name}={value} (deployment/plan.py)"


# -- docker-compose.yml -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOYMENT / "docker-compose.yml").read_text())


def test_compose_has_every_service_with_its_port_app_and_healthcheck(compose):
    services = compose["services"]
    assert set(services) == set(PORTS)
    for name, service in services.items():
        port = PORTS[name]
        probe = " ".join(service["healthcheck"]["test"])
        assert f"deployment/health_probe.py http://127.0.0.1:{port}/health" in probe, name
        assert ("http" if name == "orchestrator" else "model") in probe.split("||")[0].split()[-1]
        bind = service["environment"].get("BACKEND_BIND") or service["environment"].get("ORCHESTRATOR_BIND")
        assert bind == f"0.0.0.0:{port}", name
        if "command" in service:
            config, app = gunicorn_command(service["command"])
            assert config == expected_config(name) and app == APPS[name]
        build = service.get("build") or services["rapidocr"]["build"]
        dockerfile = REPO_ROOT / build["dockerfile"]
        assert dockerfile.name == f"{DOCKERFILES[name]}.Dockerfile" and dockerfile.is_file(), name
        assert (DEPLOYMENT / build["context"]).resolve() == REPO_ROOT
    assert services["orchestrator"]["ports"] == [f"{PORTS['orchestrator']}:{PORTS['orchestrator']}"]
    assert all("ports" not in s for n, s in services.items() if n != "orchestrator"), "only :8080 is published"


def test_compose_pins_deepseek_to_gpu0_and_mineru_to_gpu1_with_models_as_volumes(compose):
    services = compose["services"]
    for name, gpu in GPU_BACKENDS.items():
        (device,) = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert device["device_ids"] == [gpu] and device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
        # Inside, the container sees only its own card, as index 0.
        assert services[name]["environment"][f"{ENV_PREFIXES[name]}_GPU"] == "0"
        (volume,) = services[name]["volumes"]
        host, _inside, mode = volume.rsplit(":", 2)
        assert host.startswith("${MODELS_DIR:-../models}/") and mode == "ro"
    for name, entry in SERVICES.backends.items():
        for variable, folder in entry.models.items():  # the catalogue's model folders, as mounted
            assert services[name]["environment"][variable] == f"/models/{folder}", name
            assert f"/models/{folder}" in [volume.rsplit(":", 2)[1] for volume in services[name]["volumes"]], name
    for name in ("rapidocr", "tesseract", "orchestrator"):
        assert "deploy" not in services[name]


def test_compose_orchestrator_reaches_each_backend_by_service_name(compose):
    backends = parse_backends(compose["services"]["orchestrator"]["environment"]["OCR_BACKENDS"])
    assert backends == {name: [f"http://{name}:{port}"] for name, port in PORTS.items() if name != "orchestrator"}


# -- Kubernetes -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s() -> dict[tuple[str, str], dict]:
    kustomization = yaml.safe_load((DEPLOYMENT / "k8s" / "kustomization.yaml").read_text())
    objects: dict[tuple[str, str], dict] = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((DEPLOYMENT / "k8s" / resource).read_text()):
            objects[(document["kind"], document["metadata"]["name"])] = document
    listed = set(kustomization["resources"])
    assert listed == {path.name for path in (DEPLOYMENT / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    return objects


def container_of(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_k8s_deployment_per_service_with_probes_on_live_and_ready(k8s):
    for name, port in PORTS.items():
        deployment = k8s[("Deployment", name)]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        container = container_of(deployment)
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}, name
        env = {item["name"]: item["value"] for item in container["env"]}
        assert env.get("BACKEND_BIND", env.get("ORCHESTRATOR_BIND")) == f"0.0.0.0:{port}"
        if "command" in container:
            assert gunicorn_command(container["command"]) == (expected_config(name), APPS[name])


def test_k8s_gpu_backends_take_one_gpu_each(k8s):
    for name in PORTS:
        resources = container_of(k8s[("Deployment", name)])["resources"]
        if name in GPU_BACKENDS:
            assert resources["limits"]["nvidia.com/gpu"] == 1
            env = {item["name"]: item["value"] for item in container_of(k8s[("Deployment", name)])["env"]}
            assert env[f"{ENV_PREFIXES[name]}_GPU"] == "0", "the pod sees its one card as index 0"
            assert "startupProbe" in container_of(k8s[("Deployment", name)]), "model loading outlasts liveness"
        else:
            assert "nvidia.com/gpu" not in resources.get("limits", {})


def test_k8s_backends_are_headless_services_the_orchestrator_resolves(k8s):
    env = {item["name"]: item["value"] for item in container_of(k8s[("Deployment", "orchestrator")])["env"]}
    backends = parse_backends(env["OCR_BACKENDS"])
    for name, port in PORTS.items():
        service = k8s[("Service", name)]
        assert service["spec"]["selector"] == {"app.kubernetes.io/name": name}
        if name == "orchestrator":
            assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
            continue
        assert service["spec"]["clusterIP"] == "None", "headless: one DNS address per ready pod"
        assert service["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
        assert backends[name] == [f"{DNS_PREFIX}http://{name}:{port}"]


def test_k8s_ingress_routes_to_the_orchestrator(k8s):
    ingress = k8s[("Ingress", "orchestrator")]
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"] == {"name": "orchestrator", "port": {"name": "http"}}
    claims = {name for kind, name in k8s if kind == "PersistentVolumeClaim"}
    for deployment in (k8s[("Deployment", n)] for n in PORTS):
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
