"""Backends publish their options (#21): each backend's fields, their one JSON form, the one check of
a request against them, and the orchestrator that carries them in ``/backends`` and refuses a request
outside them (sync, job or comparison) before any backend is called."""

from __future__ import annotations

import pytest

from backends.deepseek_ocr.backend import create_backend
from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.prompts import PROMPTS
from backends.mineru_backend.backend import MinerUBackend
from backends.mineru_backend.settings import OCR_MODES, TIERS, MineruConfig
from backends.rapidocr_backend.backend import RapidOCRBackend
from backends.tesseract_backend.backend import TesseractBackend
from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from orchestrator.openapi import field_schema
from shared.errors import InvalidOption
from shared.options import COMMON_FIELDS, FormField, OCROptions, parse_options
from shared.published_options import check_options, publish, read_published
from tests.support import standin_http
from tests.support.client import post_file
from tests.support.deepseek import ScriptedEngine
from tests.support.documents import text_image
from tests.support.mineru import StandInParser
from tests.support.schema import validate

IMAGE = text_image(["options"])
LEVEL = FormField("level", "integer", "How hard.", 2, minimum=1, maximum=5)
STYLE = FormField("style", "string", "How.", "plain", choices=("plain", "rich"))
FLAG = FormField("flag", "boolean", "On or off.", False)
FIELDS = (LEVEL, STYLE, FLAG, FormField("prompt", "string", "An instruction."))


def names(fields) -> list[str]:
    return [field.name for field in fields]


# -- each backend's fields -------------------------------------------------------------------------


def test_deepseek_publishes_its_modes_prompt_phrase_and_its_token_cap():
    backend = create_backend(DeepSeekConfig(max_tokens=4096), engine=ScriptedEngine())
    fields = {field.name: field for field in backend.option_fields()}
    assert list(fields) == ["mode", "prompt", "phrase", "max_tokens"]
    assert fields["mode"].choices == tuple(PROMPTS) and fields["mode"].default == "document"
    cap = fields["max_tokens"]
    assert (cap.type, cap.minimum, cap.maximum, cap.default) == ("integer", 16, 4096, 4096)


def test_deepseek_on_the_remote_code_publishes_no_token_cap():
    engine = ScriptedEngine()
    engine.honours_max_tokens = False
    backend = create_backend(DeepSeekConfig(engine="transformers"), engine=engine)
    assert names(backend.option_fields()) == ["mode", "prompt", "phrase"]


def test_mineru_publishes_tier_and_ocr_mode_with_the_tier_chosen_at_load(tmp_path):
    backend = MinerUBackend(
        MineruConfig(tmp_dir=str(tmp_path), tier="basic", ocr_mode="ocr"), StandInParser(), restart=lambda: None
    )
    tier, ocr_mode = backend.option_fields()
    assert (tier.name, tier.choices, tier.default) == ("tier", TIERS, "basic")
    assert (ocr_mode.name, ocr_mode.choices, ocr_mode.default) == ("ocr_mode", OCR_MODES, "ocr")
    auto = MinerUBackend(MineruConfig(tmp_dir=str(tmp_path)), StandInParser(), restart=lambda: None)
    assert auto.option_fields()[0].default is None  # "auto" until load() picks one
    auto.start()
    assert auto.option_fields()[0].default == auto.default_tier and auto.default_tier in TIERS


def test_rapidocr_and_tesseract_take_no_options_of_their_own():
    assert RapidOCRBackend(threads=1).option_fields() == ()
    assert TesseractBackend(workers=1).option_fields() == ()


# -- one JSON form, read back ----------------------------------------------------------------------


def test_a_field_is_published_as_its_api_schema_with_its_name():
    assert LEVEL.to_json() == {"name": "level", **field_schema(LEVEL)}
    assert STYLE.to_json() == {
        "name": "style",
        "type": "string",
        "description": "How.",
        "enum": ["plain", "rich"],
        "default": "plain",
    }
    assert read_published(publish(FIELDS)) == FIELDS


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"name": "x"},
        [{"name": "x", "type": "float", "description": ""}],
        [{"name": "", "type": "string", "description": ""}],
        [{"name": "dpi", "type": "integer", "description": ""}],  # a common option is no backend's own
        [{"name": "cache", "type": "boolean", "description": ""}],  # nor is one of the orchestrator's
        [{"name": "x", "type": "string", "description": "", "enum": "ab"}],
        [{"name": "x", "type": "integer", "description": "", "minimum": "1"}],
        ["x"],
    ],
)
def test_anything_else_reads_as_not_published(value):
    assert read_published(value) is None


# -- the check -------------------------------------------------------------------------------------


def check(fields, published=None):
    return check_options(parse_options(fields), published or {"b": FIELDS})


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"tier": "x"}, "option 'tier' is not accepted by backend 'b'; its options: level, style, flag, prompt"),
        ({"mode": "free"}, "option 'mode' is not accepted by backend 'b'"),
        ({"level": "two"}, "option 'level' of backend 'b' must be an integer, got 'two'"),
        ({"level": "2.5"}, "option 'level' of backend 'b' must be an integer"),
        ({"level": "0"}, "option 'level' of backend 'b' must be between 1 and 5, got 0"),
        ({"level": "6"}, "option 'level' of backend 'b' must be between 1 and 5, got 6"),
        ({"style": "loud"}, "option 'style' of backend 'b' must be one of plain, rich, got 'loud'"),
        ({"flag": "maybe"}, "option 'flag' of backend 'b' must be true or false, got 'maybe'"),
    ],
)
def test_options_outside_the_schema_are_refused_naming_option_and_backend(fields, message):
    with pytest.raises(InvalidOption) as info:
        check(fields)
    assert message in info.value.message and info.value.status == 400


def test_options_inside_the_schema_and_the_common_ones_pass():
    fields = {"level": "5", "style": " Rich ", "flag": "yes", "prompt": "hi", "dpi": "200", "page_range": "1"}
    assert check(fields) == {"b": parse_options(fields)}
    common = {field.name: "" for field in COMMON_FIELDS}
    assert check(common, {"none": ()}) == {"none": parse_options(common)}


def test_an_unknown_schema_forwards_everything():
    options = parse_options({"tier": "x", "mode": "y"})
    assert check_options(options, {"b": None}) == {"b": options}


def test_a_comparison_sends_each_backend_its_own_options_and_checks_each_value():
    other = (FormField("tier", "string", "", choices=("flash", "basic")),)
    published = {"b": FIELDS, "m": other, "old": None}
    sent = check_options(parse_options({"level": "3", "tier": "flash", "dpi": "150"}), published)
    assert sent["b"] == OCROptions(dpi=150, extra={"level": "3"})
    assert sent["m"] == OCROptions(dpi=150, extra={"tier": "flash"})
    assert sent["old"].extra == {"level": "3", "tier": "flash"}  # its schema is not known: all of them
    with pytest.raises(InvalidOption, match="option 'tier' of backend 'm' must be one of flash, basic"):
        check_options(parse_options({"level": "3", "tier": "turbo"}), published)
    with pytest.raises(InvalidOption, match="option 'colour' is not accepted by any of the backends b, m"):
        check_options(parse_options({"colour": "red"}), {"b": FIELDS, "m": other})


# -- the orchestrator ------------------------------------------------------------------------------


@pytest.fixture
def two():
    servers = {
        "styled": standin_http.serve("delayed", delay=0, published=publish(FIELDS)),
        "tiered": standin_http.serve(
            "delayed", delay=0, published=publish((FormField("tier", "string", "", choices=("flash", "basic")),))
        ),
        "old": standin_http.serve("delayed", delay=0),
    }
    yield servers
    for server in servers.values():
        server.shutdown()


@pytest.fixture
def client(tmp_path, two):
    config = OrchestratorConfig(
        backends={name: [f"http://127.0.0.1:{server.server_port}"] for name, server in two.items()},
        default_backend="styled",
        data_dir=tmp_path,
    )
    app = create_app(config, monitor=False)
    app.extensions["ocr_orchestrator"].registry.check_all()
    return app.test_client()


def posts(servers) -> int:
    return sum(len(server.bodies) for server in servers.values())


def test_backends_carries_what_each_backend_publishes(client):
    body = client.get("/backends").get_json()
    validate(body, "backends_list")
    options = {backend["name"]: backend["options"] for backend in body["backends"]}
    assert options == {"styled": publish(FIELDS), "tiered": [options["tiered"][0]], "old": None}
    assert options["tiered"][0]["enum"] == ["flash", "basic"]


@pytest.mark.parametrize("path", ["/ocr", "/jobs"])
@pytest.mark.parametrize(
    "fields, message",
    [
        ({"tier": "flash"}, "option 'tier' is not accepted by backend 'styled'"),
        ({"mode": "free"}, "option 'mode' is not accepted by backend 'styled'"),
        ({"style": "loud"}, "option 'style' of backend 'styled' must be one of plain, rich"),
        ({"level": "x"}, "option 'level' of backend 'styled' must be an integer"),
        ({"level": "99"}, "option 'level' of backend 'styled' must be between 1 and 5"),
    ],
)
def test_a_request_outside_the_schema_is_400_without_reaching_the_backend(client, two, path, fields, message):
    response = post_file(client, IMAGE, path, "a.png", backend="styled", **fields)
    body = response.get_json()
    assert response.status_code == 400 and body["error"]["code"] == "invalid_option", body
    assert message in body["error"]["message"]
    validate(body, "error")
    assert posts(two) == 0


def test_a_request_inside_the_schema_is_forwarded(client, two):
    response = post_file(client, IMAGE, "/ocr", "a.png", backend="styled", level="3", cache="false")
    assert response.status_code == 200, response.get_json()
    assert b'name="level"\r\n\r\n3' in two["styled"].bodies[0]


def test_a_backend_whose_schema_is_unknown_gets_the_request_as_today(client, two):
    response = post_file(client, IMAGE, "/ocr", "a.png", backend="old", tier="flash", cache="false")
    assert response.status_code == 200 and b'name="tier"' in two["old"].bodies[0]


@pytest.mark.parametrize("path", ["/ocr/compare", "/jobs/compare"])
def test_a_comparison_with_one_bad_option_is_refused_before_any_backend_is_called(client, two, path):
    response = post_file(client, IMAGE, path, "a.png", backends="styled,tiered", level="3", tier="turbo")
    body = response.get_json()
    assert response.status_code == 400 and "option 'tier' of backend 'tiered'" in body["error"]["message"]
    assert posts(two) == 0


def test_a_comparison_sends_each_backend_only_what_it_publishes(client, two):
    response = post_file(client, IMAGE, "/ocr/compare", "a.png", backends="styled,tiered", level="3", tier="basic")
    assert response.status_code == 200, response.get_json()
    styled, tiered = two["styled"].bodies[0], two["tiered"].bodies[0]
    assert b'name="level"' in styled and b'name="tier"' not in styled
    assert b'name="tier"' in tiered and b'name="level"' not in tiered
