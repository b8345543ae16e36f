"""The generic VLM backend (backends/vlm_backend) against a replaying model server on loopback:
the request it sends, the page it makes of a recorded answer, and every way the model server can
fail (each a clear error with its status, never a 500)."""

from __future__ import annotations

import time

import pytest
from PIL import Image, ImageDraw

from backends.vlm_backend.backend import VLMBackend, create_backend
from backends.vlm_backend.chat import chat_body
from backends.vlm_backend.config import VLMConfig
from backends.vlm_backend.figures import embed_figures
from backends.vlm_backend.images import prepare, smart_size
from backends.vlm_backend.presets import preset
from backends.vlm_backend.presets.base import ImageRules, Sampling
from shared.api_contract import Block
from shared.config import ConfigError
from shared.errors import BadBackendAnswer, InferenceTimeout, InvalidOption, ModelNotLoaded
from shared.layout import FIGURE, TEXT
from shared.options import OCROptions
from tests.support.vlm_replay import Behaviour, ReplayServer, recorded_answer

#: The page dots_simple.json was recorded on: 1224 × 1584 (tests/fixtures/vlm/dots-ocr/SOURCES.md).
PAGE = (1224, 1584)


def page_image() -> Image.Image:
    image = Image.new("RGB", PAGE, "white")
    ImageDraw.Draw(image).rectangle((300, 800, 900, 1200), fill=(200, 30, 30))
    return image


@pytest.fixture
def replay():
    with ReplayServer(Behaviour(served=["dots"], answer=recorded_answer("dots-ocr", "dots_simple.json"))) as server:
        yield server


def make_backend(server: ReplayServer, preset_name: str = "dots-ocr", **settings) -> VLMBackend:
    config = VLMConfig(
        name="dots-ocr",
        preset=preset_name,
        server_url=server.url,
        served_model="dots",
        startup_wait=settings.pop("startup_wait", 5.0),
        health_interval=0.1,
        **settings,
    )
    backend = create_backend(config)
    backend.start()
    return backend


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# -- the image the model sees -------------------------------------------------------------------


def test_smart_resize_keeps_sides_multiples_of_the_factor_within_the_pixel_bounds():
    assert smart_size(1224, 1584, ImageRules(factor=28)) == (1232, 1596)  # dots_simple's derived size
    w, h = smart_size(4000, 3000, ImageRules(max_pixels=1_000_000, factor=28))
    assert w % 28 == 0 and h % 28 == 0 and w * h <= 1_000_000 and abs(w / h - 4 / 3) < 0.05
    w, h = smart_size(100, 50, ImageRules(min_pixels=200_000, factor=32))
    assert w % 32 == 0 and h % 32 == 0 and w * h >= 200_000
    assert smart_size(2550, 3300, ImageRules(longest_side=1288, factor=28)) == (1008, 1288)
    assert smart_size(5, 5, ImageRules(factor=28)) == (28, 28)


def test_prepare_sends_rgb_at_the_preset_size():
    sent = prepare(Image.new("L", (1000, 800)), preset("qwen2.5-vl").image)
    assert sent.mode == "RGB" and sent.width % 28 == 0 and sent.height % 28 == 0
    assert sent.width * sent.height <= 1605632


# -- the request --------------------------------------------------------------------------------


def test_chat_body_carries_the_image_the_prompt_and_the_sampling():
    sampling = Sampling(temperature=0.1, max_tokens=99, top_p=0.5, repetition_penalty=1.1, extra={"top_k": 1})
    body = chat_body("m", Image.new("RGB", (28, 28)), "read it", sampling, 77, system="be brief")
    assert body["model"] == "m" and body["max_completion_tokens"] == 77
    assert (body["temperature"], body["top_p"], body["repetition_penalty"], body["top_k"]) == (0.1, 0.5, 1.1, 1)
    system, user = body["messages"]
    assert system == {"role": "system", "content": "be brief"}
    image, text = user["content"]
    assert image["image_url"]["url"].startswith("data:image/png;base64,")
    assert text == {"type": "text", "text": "read it"}
    plain = chat_body("m", Image.new("RGB", (28, 28)), "p", Sampling(), 5)
    assert len(plain["messages"]) == 1 and "top_p" not in plain and "repetition_penalty" not in plain


def test_a_page_is_sent_with_the_modes_prompt_and_read_by_the_preset(replay):
    backend = make_backend(replay)
    assert backend.loaded, backend.load_error
    page = backend.ocr_image(page_image(), backend.check_options(OCROptions()))
    sent = replay.requests[-1]
    dots = preset("dots-ocr")
    assert sent["model"] == "dots" and sent["messages"][-1]["content"][1]["text"] == dots.modes["layout-all"].prompt
    assert (
        sent["temperature"] == dots.sampling.temperature and sent["max_completion_tokens"] == dots.sampling.max_tokens
    )
    assert page.raw["text"] == replay.behaviour.answer and page.raw["sent_size"] == [1232, 1596]
    assert page.raw["mode"] == "layout-all"
    assert "DocLayNet: A Large Human-Annotated Dataset" in page.markdown
    assert page.blocks and all(
        0 <= b.bbox[0] < b.bbox[2] <= PAGE[0] and 0 <= b.bbox[1] < b.bbox[3] <= PAGE[1] for b in page.blocks
    )
    title = next(b for b in page.blocks if "DocLayNet" in b.text)
    assert title.bbox[0] == pytest.approx(211 * 1224 / 1232, abs=1)


def test_a_custom_prompt_is_sent_and_its_answer_read_as_markdown(replay):
    backend = make_backend(replay)
    replay.behaviour.answer = "# Just text"
    page = backend.ocr_image(page_image(), backend.check_options(OCROptions(prompt="Read the title.")))
    assert replay.requests[-1]["messages"][-1]["content"][1]["text"] == "Read the title."
    assert page.markdown == "# Just text" and page.blocks == []


def test_an_answer_cut_at_max_tokens_is_kept_with_a_warning(replay):
    backend = make_backend(replay)
    replay.behaviour.finish_reason = "length"
    page = backend.ocr_image(page_image(), backend.check_options(OCROptions(extra={"max_tokens": "100"})))
    assert replay.requests[-1]["max_completion_tokens"] == 100
    assert any("max_tokens (100)" in warning for warning in page.warnings)


def test_figures_are_cut_from_the_page_and_embedded_in_source_markdown(replay):
    backend = make_backend(replay)
    replay.behaviour.answer = (
        '[{"bbox": [100, 100, 600, 200], "category": "Text", "text": "Above the picture."},'
        ' {"bbox": [302, 804, 904, 1211], "category": "Picture"},'
        ' {"bbox": [100, 1300, 600, 1400], "category": "Text", "text": "Below it."}]'
    )
    page = backend.ocr_image(page_image(), backend.check_options(OCROptions()))
    assert [b.type for b in page.blocks] == [TEXT, FIGURE, TEXT]
    assert "![figure 0](images/0.jpg)" in page.markdown
    assert page.source_markdown is not None and "data:image/jpeg;base64," in page.source_markdown
    assert page.markdown.index("Above") < page.markdown.index("images/0.jpg") < page.markdown.index("Below")


def test_embed_figures_uses_the_models_own_image_links_first():
    image = Image.new("RGB", (100, 100), "white")
    blocks = [Block(FIGURE, (10, 10, 50, 50), "")]
    markdown, source = embed_figures(image, "Text\n\n![a chart](chart.png)\n\nMore", blocks, prefix="page2_")
    assert markdown == "Text\n\n![a chart](images/page2_0.jpg)\n\nMore"
    assert source.startswith("Text\n\n![a chart](data:image/jpeg;base64,")
    assert embed_figures(image, "no figures", [Block(TEXT, (0, 0, 5, 5), "x")]) == ("no figures", "no figures")


# -- options ------------------------------------------------------------------------------------


def test_options_published_from_the_preset(replay):
    backend = make_backend(replay)
    fields = {field.name: field for field in backend.option_fields()}
    assert fields["mode"].choices == ("layout-all", "layout-only", "ocr") and fields["mode"].default == "layout-all"
    assert "prompt_layout_only_en" in fields["mode"].description
    assert "prompt" in fields and fields["max_tokens"].maximum == preset("dots-ocr").sampling.max_tokens
    olmocr = make_backend(replay, "olmocr-2")
    assert "prompt" not in {field.name for field in olmocr.option_fields()}


def test_a_mode_outside_the_presets_is_refused_naming_it(replay):
    backend = make_backend(replay)
    with pytest.raises(InvalidOption, match=r"option 'mode' must be one of layout-all, layout-only, ocr.*'gundam'"):
        backend.check_options(OCROptions(mode="gundam"))
    assert backend.check_options(OCROptions(mode="ocr")).mode == "ocr"
    with pytest.raises(InvalidOption, match="'max_tokens' must be between 16"):
        backend.check_options(OCROptions(extra={"max_tokens": "999999"}))
    with pytest.raises(InvalidOption, match="'prompt' is not accepted by dots-ocr: preset olmocr-2"):
        make_backend(replay, "olmocr-2").check_options(OCROptions(prompt="x"))


def test_model_id_and_output_settings_name_the_preset_and_its_sampling(replay):
    backend = make_backend(replay)
    assert backend.name == "dots-ocr" and backend.model_id == "dots (VLM preset dots-ocr)"
    settings = backend.output_settings()
    assert settings["preset"] == "dots-ocr" and settings["sampling"]["temperature"] == 0.1
    qwen = make_backend(replay, "qwen2.5-vl")
    assert qwen.fingerprint() != backend.fingerprint()
    assert backend.raw_result([]) == {"vlm": {"preset": "dots-ocr", "pages": []}}


# -- the model server failing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chat_status": 500}, "answered 500"),
        ({"chat_status": 400}, "answered 400"),
        ({"chat_body": b"<html>oops"}, "not a chat completion: not JSON"),
        ({"chat_body": b'{"choices": []}'}, "not a chat completion: the answer has no choice"),
        ({"chat_body": b'{"choices": [{"message": null}]}'}, "no choice with a message"),
    ],
)
def test_bad_answers_are_502_with_the_reason(replay, change, message):
    backend = make_backend(replay)
    for key, value in change.items():
        setattr(replay.behaviour, key, value)
    with pytest.raises(BadBackendAnswer, match=message) as caught:
        backend.ocr_image(page_image(), backend.check_options(OCROptions()))
    assert caught.value.status == 502


def test_a_slow_model_server_is_504(replay):
    backend = make_backend(replay, page_timeout=1.0)
    replay.behaviour.delay = 2.0
    with pytest.raises(InferenceTimeout, match="VLM_PAGE_TIMEOUT") as caught:
        backend.ocr_image(page_image(), backend.check_options(OCROptions()))
    assert caught.value.status == 504


def test_a_dead_model_server_makes_the_backend_not_ready_until_it_is_back(replay):
    backend = make_backend(replay)
    assert backend.loaded
    replay.stop()
    with pytest.raises(ModelNotLoaded, match=r"dots-ocr model is not loaded: the model server at .* does not answer"):
        backend.ocr_image(page_image(), backend.check_options(OCROptions()))
    assert wait_for(lambda: not backend.loaded)
    assert "does not answer" in (backend.load_error or "")
    replay.start()
    assert wait_for(lambda: backend.loaded), backend.load_error
    backend.ocr_image(page_image(), backend.check_options(OCROptions()))


def test_an_unhealthy_model_server_makes_the_backend_not_ready(replay):
    backend = make_backend(replay)
    replay.behaviour.health_status = 503
    assert wait_for(lambda: not backend.loaded)
    assert "answers /health with 503" in (backend.load_error or "")


def test_a_model_server_serving_another_model_is_named_at_once(replay):
    replay.behaviour.served = ["someone-else"]
    started = time.monotonic()
    backend = make_backend(replay, startup_wait=60)
    assert time.monotonic() - started < 10
    assert not backend.loaded
    assert (
        backend.load_error == f"the model server at {replay.url} serves ['someone-else'], not 'dots' (VLM_SERVED_MODEL)"
    )
    replay.behaviour.served = ["dots"]
    assert wait_for(lambda: backend.loaded)


def test_the_backend_waits_loading_for_a_model_server_still_starting():
    server = ReplayServer(Behaviour(served=["dots"]))
    server.start()
    server.stop()  # its port, with nothing on it yet
    config = VLMConfig(name="x", preset="dots-ocr", server_url=server.url, served_model="dots", startup_wait=0.5)
    backend = create_backend(config)
    backend.start()  # gives up waiting after startup_wait: not loaded, the reason named
    assert not backend.loaded and "does not answer" in (backend.load_error or "")


def test_config_from_the_environment():
    config = VLMConfig.from_env(
        {"VLM_NAME": "dots-ocr", "VLM_PRESET": "dots-ocr", "VLM_SERVED_MODEL": "dots", "VLM_SERVER_URL": "http://h:1/"}
    )
    assert (config.name, config.preset, config.served_model, config.server_url) == (
        "dots-ocr",
        "dots-ocr",
        "dots",
        "http://h:1",
    )
    with pytest.raises(ConfigError, match="VLM_SERVED_MODEL"):
        VLMConfig.from_env({})
