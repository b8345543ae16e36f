"""Reading a package's API out of its source with :mod:`ast`: classes (through re-exports, aliases
and bases), their members, method parameters, module names. Nothing is imported, so no CUDA, no
dependencies. Used by tests/conformance against the pinned wheels (tests/support/wheel_source.py)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from tests.support.wheel_source import WheelSource


@dataclass(frozen=True)
class FoundClass:
    module: str
    node: ast.ClassDef


def _resolve_relative(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def lazy_exports(src: WheelSource, module: str) -> dict[str, tuple[str, str]]:
    """A package's ``MODULE_ATTRS = {"Name": ".sub.module:Name"}`` (vLLM's lazy ``__getattr__``)."""
    tree = src.module(module)
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body if tree else []:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if isinstance(value, ast.Dict) and any(isinstance(t, ast.Name) and t.id == "MODULE_ATTRS" for t in targets):
            for key, item in zip(value.keys, value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(item, ast.Constant):
                    target, attr = str(item.value).split(":")
                    found[str(key.value)] = (module + target if target.startswith(".") else target, attr)
    return found


def find_class(src: WheelSource, module: str, name: str, _depth: int = 0) -> FoundClass | None:
    """The class ``module.name``, following ``from x import name``, ``name = Other`` and lazy exports."""
    tree = src.module(module)
    if tree is None or _depth > 8:
        return None
    is_package = (src.file_of(module) or "").endswith("__init__.py")
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return FoundClass(module, node)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    found = find_class(src, _resolve_relative(module, node, is_package), alias.name, _depth + 1)
                    if found:
                        return found
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and node.value.id != name
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ):
            return find_class(src, module, node.value.id, _depth + 1)
    if name in lazy_exports(src, module):
        target, attr = lazy_exports(src, module)[name]
        return find_class(src, target, attr, _depth + 1)
    return None


def find_class_anywhere(src: WheelSource, name: str, under: str) -> FoundClass | None:
    """A class defined in any module below the folder ``under`` (for classes that move between
    releases but keep their name and fields, e.g. vLLM's OpenAI protocol models)."""
    for file in sorted(src._names):
        if file.startswith(under) and file.endswith(".py") and f"class {name}(" in src.text(file):
            module = file[: -len(".py")].removesuffix("/__init__").replace("/", ".")
            found = find_class(src, module, name)
            if found:
                return found
    return None


def _own_members(node: ast.ClassDef) -> set[str]:
    members: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members.add(item.target.id)
        elif isinstance(item, ast.Assign):
            members.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            members.add(item.name)
            for sub in ast.walk(item):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.ctx, ast.Store)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self"
                ):
                    members.add(sub.attr)
    return members


def bases(src: WheelSource, found: FoundClass) -> list[FoundClass]:
    result = []
    for base in found.node.bases:
        name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
        if name:
            parent = find_class(src, found.module, name)
            if parent:
                result.append(parent)
    return result


def members(src: WheelSource, found: FoundClass, _seen: frozenset[tuple[str, str]] = frozenset()) -> set[str]:
    """Fields, methods, properties and ``self.x`` attributes of a class and its bases in the wheel."""
    key = (found.module, found.node.name)
    names = _own_members(found.node)
    for parent in bases(src, found):
        if (parent.module, parent.node.name) not in _seen | {key}:
            names |= members(src, parent, _seen | {key})
    return names


def method(src: WheelSource, found: FoundClass, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for item in found.node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == name:
            return item
    for parent in bases(src, found):
        hit = method(src, parent, name)
        if hit:
            return hit
    return None


def accepts(function: ast.FunctionDef | ast.AsyncFunctionDef, positional: int, keywords: set[str]) -> list[str]:
    """What is wrong with calling ``function`` (a method: ``self``/``cls`` dropped) this way."""
    arguments = function.args
    names = [a.arg for a in arguments.posonlyargs + arguments.args]
    decorators = {d.id for d in function.decorator_list if isinstance(d, ast.Name)}
    if names and "staticmethod" not in decorators:
        names = names[1:]
    problems = []
    if positional > len(names) and arguments.vararg is None:
        problems.append(f"{function.name}() takes {len(names)} positional arguments, called with {positional}")
    known = set(names[len(arguments.posonlyargs) :]) | {a.arg for a in arguments.kwonlyargs}
    if arguments.kwarg is None:
        problems += [f"{function.name}() has no parameter {k!r}" for k in sorted(keywords - known)]
    return problems


def module_defines(src: WheelSource, module: str, name: str) -> bool:
    tree = src.module(module)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
        if isinstance(node, ast.ImportFrom | ast.Import) and any((a.asname or a.name) == name for a in node.names):
            return True
    return name in lazy_exports(src, module) or src.file_of(f"{module}.{name}") is not None


def strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
