"""The DeepSeek-OCR engines checked against the real source of the pinned packages.

Every name, keyword and field the adapters use is read out of *our* source with :mod:`ast` (imports
from vLLM, the keywords of each vLLM constructor and method call, attributes read on vLLM objects,
the keys of the chat request and answer), so a new use is checked without editing a list, and then
looked up in the wheel's source. Each check is recorded in :class:`Report` as a line; a failed one
is also a problem, naming what is missing where.
"""

from __future__ import annotations

import ast
from pathlib import Path

from packaging.specifiers import SpecifierSet

from tests.support.api_check import (
    FoundClass,
    accepts,
    find_class,
    members,
    method,
    module_defines,
    strings,
)
from tests.support.chat_conformance import (
    Report,
    check_answer,
    check_models_answer,
    check_request,
    check_routes,
    read_keys,
)
from tests.support.wheel_source import REPO_ROOT, WheelSource, pins

ENGINES = REPO_ROOT / "backends" / "deepseek_ocr" / "engines"
PACKAGE = REPO_ROOT / "backends" / "deepseek_ocr"


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _vllm_imports(tree: ast.Module) -> dict[str, str]:
    """local name → ``module:name`` of every ``from vllm… import name`` (anywhere in the file)."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "vllm":
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}:{alias.name}"
    return found


def _calls_to(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and (
            (isinstance(n.func, ast.Name) and n.func.id == name)
            or (isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == name)
        )
    ]


def _keywords(call: ast.Call) -> set[str]:
    return {k.arg for k in call.keywords if k.arg}


def _class(src: WheelSource, reference: str) -> FoundClass | None:
    module, name = reference.split(":")
    return find_class(src, module, name)


def _attributes_on(tree: ast.AST, variable: str) -> dict[str, ast.Attribute]:
    """``variable.attr`` reads (``self._engine`` counts as the variable ``_engine``)."""
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        value = node.value
        if (isinstance(value, ast.Name) and value.id == variable) or (
            isinstance(value, ast.Attribute)
            and value.attr == variable
            and isinstance(value.value, ast.Name)
            and value.value.id == "self"
        ):
            found[node.attr] = node
    return found


def _annotated_names(function: ast.FunctionDef) -> dict[str, str]:
    """Parameter and variable names of ``function`` annotated with a bare class name."""
    found = {}
    for argument in function.args.args:
        if isinstance(argument.annotation, ast.Name):
            found[argument.arg] = argument.annotation.id
    for node in ast.walk(function):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(node.annotation, ast.Name)
        ):
            found[node.target.id] = node.annotation.id
    return found


# -- vLLM -----------------------------------------------------------------------------------------


def check_vllm(src: WheelSource) -> Report:
    report = Report()
    engine_tree = _tree(ENGINES / "vllm_engine.py")
    imports = _vllm_imports(engine_tree)
    for reference in sorted(imports.values()):
        module, name = reference.split(":")
        report.check(module_defines(src, module, name), f"import {reference}")
    for node in ast.walk(engine_tree):  # `import vllm` and the attributes read on it
        if isinstance(node, ast.Import) and any(a.name == "vllm" for a in node.names):
            for attribute in _attributes_on(engine_tree, "vllm"):
                report.check(module_defines(src, "vllm", attribute), f"vllm.{attribute}")

    # Constructors: every keyword is a field of the class (its bases included).
    for local in ("AsyncEngineArgs", "SamplingParams"):
        found = _class(src, imports[local]) if local in imports else None
        report.check(found is not None, f"class {local}")
        for call in _calls_to(engine_tree, local):
            for keyword in sorted(_keywords(call)):
                report.check(found is not None and keyword in members(src, found), f"{local}({keyword}=…)")

    # The async engine: the class methods called on it and the methods and properties used on it.
    engine_class = _class(src, imports["AsyncLLMEngine"])
    report.check(engine_class is not None, "AsyncLLMEngine")
    if engine_class is not None:
        for call in _calls_to(engine_tree, "AsyncLLMEngine"):
            assert isinstance(call.func, ast.Attribute)
            found_method = method(src, engine_class, call.func.attr)
            report.check(found_method is not None, f"AsyncLLMEngine.{call.func.attr}")
            if found_method is not None:
                for problem in accepts(found_method, len(call.args), _keywords(call)):
                    report.check(False, f"AsyncLLMEngine.{call.func.attr}(…)", problem)
        engine_members = members(src, engine_class)
        used = _attributes_on(engine_tree, "_engine") | _attributes_on(engine_tree, "engine")
        calls = {id(n.func): n for n in ast.walk(engine_tree) if isinstance(n, ast.Call)}
        for attribute, node in sorted(used.items()):
            report.check(attribute in engine_members, f"AsyncLLM.{attribute}")
            call = calls.get(id(node))
            found_method = method(src, engine_class, attribute) if call else None
            if call is not None and found_method is not None:
                for problem in accepts(found_method, len(call.args), _keywords(call)):
                    report.check(False, f"AsyncLLM.{attribute}(…)", problem)
        for name in ("errored", "dead_error"):  # read as properties, not called
            function = method(src, engine_class, name)
            decorated = function is not None and any(
                isinstance(d, ast.Name) and d.id == "property" for d in function.decorator_list
            )
            report.check(decorated, f"AsyncLLM.{name} is a property")
        health = method(src, engine_class, "check_health")
        report.check(isinstance(health, ast.AsyncFunctionDef), "AsyncLLM.check_health is async")

    # Outputs: attributes read on names annotated with vLLM's classes.
    for function in (n for n in ast.walk(engine_tree) if isinstance(n, ast.FunctionDef)):
        for variable, class_name in _annotated_names(function).items():
            if class_name in imports:
                found = _class(src, imports[class_name])
                fields = members(src, found) if found else set()
                for attribute in sorted(_attributes_on(function, variable)):
                    report.check(attribute in fields, f"{class_name}.{attribute}")

    _check_finish_reasons(src, report)
    _check_ngram_processor(src, report)
    _check_architectures(src, report)
    _check_start_method(src, report)
    _check_nvml(src, report)
    _check_dependency_pins(src, report)
    return report


def _check_finish_reasons(src: WheelSource, report: Report) -> None:
    from backends.deepseek_ocr.finish import FINISH_REASONS

    tree = src.module("vllm.v1.engine")
    upstream: set[str] = set()
    for node in tree.body if tree else []:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "FINISH_REASON_STRINGS" for t in node.targets
        ):
            upstream = strings(node.value)
    report.check(
        upstream == set(FINISH_REASONS),
        "finish reasons: vllm.v1.engine.FINISH_REASON_STRINGS == finish.FINISH_REASONS",
        f"vLLM's finish reasons are {sorted(upstream)}, finish.py handles {sorted(FINISH_REASONS)}",
    )


def _check_ngram_processor(src: WheelSource, report: Report) -> None:
    from backends.deepseek_ocr.engines.base import ngram_arguments
    from backends.deepseek_ocr.ngram import NGramRule

    found = find_class(src, "vllm.model_executor.models.deepseek_ocr", "NGramPerReqLogitsProcessor")
    read = strings(found.node) if found else set()
    for key in sorted(ngram_arguments(NGramRule(30, 90))):
        report.check(key in read, f"NGramPerReqLogitsProcessor reads extra_args[{key!r}]")


def _check_architectures(src: WheelSource, report: Report) -> None:
    from backends.deepseek_ocr.model_files import ARCHITECTURE_NAMES

    registry = src.module("vllm.model_executor.models.registry")
    known = strings(registry) if registry else set()
    for architecture in sorted(ARCHITECTURE_NAMES):
        report.check(architecture in known, f"model registry has {architecture}")


def _check_start_method(src: WheelSource, report: Report) -> None:
    """The variables cuda_startup.py sets are the ones vLLM reads, with the values it accepts."""
    from backends.deepseek_ocr.cuda_startup import CUDA_SAFE_ENVIRONMENT

    envs = src.module("vllm.envs")
    env_strings = strings(envs) if envs else set()
    report.check(
        {"VLLM_WORKER_MULTIPROC_METHOD", CUDA_SAFE_ENVIRONMENT["VLLM_WORKER_MULTIPROC_METHOD"]} <= env_strings,
        "vllm.envs: VLLM_WORKER_MULTIPROC_METHOD accepts spawn",
    )
    system = src.module("vllm.utils.system_utils")
    report.check(
        system is not None and "VLLM_WORKER_MULTIPROC_METHOD" in strings(system),
        "vllm.utils.system_utils reads VLLM_WORKER_MULTIPROC_METHOD",
    )
    override = src.module("vllm.env_override")
    report.check(
        override is not None and "PYTORCH_NVML_BASED_CUDA_CHECK" in strings(override),
        "vllm.env_override sets PYTORCH_NVML_BASED_CUDA_CHECK (the variable cuda_startup.py sets earlier)",
    )


def _check_nvml(src: WheelSource, report: Report) -> None:
    tree = _tree(PACKAGE / "gpu_memory.py")
    nvml = src.module("vllm.third_party.pynvml")
    report.check(nvml is not None, "vllm.third_party.pynvml")
    text = strings(nvml) if nvml else set()
    for function in sorted(_attributes_on(tree, "nvml")):
        report.check(
            nvml is not None and module_defines(src, "vllm.third_party.pynvml", function), f"pynvml.{function}"
        )
    for variable in ("info", "process"):  # NVML structs: their fields are strings in _fields_
        for attribute in sorted(_attributes_on(tree, variable)):
            report.check(attribute in text, f"NVML struct field {attribute}")


def _check_dependency_pins(src: WheelSource, report: Report) -> None:
    pinned = pins()
    for package in ("transformers", "openai"):
        specs = src.requires(package)
        report.check(
            bool(specs) and all(pinned[package] in SpecifierSet(spec) for spec in specs),
            f"vllm {pinned['vllm']} accepts {package}=={pinned[package]} ({', '.join(specs) or 'not required'})",
        )


# -- the OpenAI-compatible body -------------------------------------------------------------------


def _dict_literals(node: ast.AST) -> dict[str, set[str]]:
    """The keys of each dict literal in ``node``, by what it is: the request (``model``), a
    message (``role``), an image URL (``url``), or a content part by its ``type``."""
    found: dict[str, set[str]] = {}
    for d in ast.walk(node):
        if not isinstance(d, ast.Dict):
            continue
        items = {k.value: v for k, v in zip(d.keys, d.values, strict=True) if isinstance(k, ast.Constant)}
        kind = next((name for name in ("model", "role", "url") if name in items), None)
        part_type = items.get("type")
        if kind is None and isinstance(part_type, ast.Constant):
            kind = f"type={part_type.value}"
        if kind is not None:
            found[kind] = {str(key) for key in items}
    return found


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def check_openai(client: WheelSource, server: WheelSource) -> Report:
    """The chat body against the openai client's request types (OpenAI's own fields) and vLLM's
    ``ChatCompletionRequest`` (all of them); the answer's keys against both sides' response models."""
    from backends.deepseek_ocr.engines import openai_engine

    report = Report()
    tree = _tree(ENGINES / "openai_engine.py")
    literals = _dict_literals(_function(tree, "chat_body"))
    parts = {("role=user" if kind == "role" else kind): keys for kind, keys in literals.items()}
    top = parts["model"]
    check_request(report, client, server, parts, openai_fields=top - set(openai_engine.VLLM_ONLY_FIELDS))
    for key in openai_engine.VLLM_ONLY_FIELDS:
        report.check(key in top, f"chat_body sends {key}")
    shapes = {"model", "role=user", "type=image_url", "url", "type=text"}
    report.check(set(parts) == shapes, f"chat_body's parts are {sorted(shapes)}")
    check_answer(report, client, server, read_keys(_function(tree, "read_answer")))
    check_models_answer(report, server, read_keys(_function(tree, "served_models")))
    check_routes(report, server, (openai_engine.MODELS_PATH, openai_engine.CHAT_PATH, openai_engine.HEALTH_PATH))
    return report
