"""Validate sandbox answers against the vendors' published API models in ../shared/specs.

OpenAPI 3.0 documents are checked with openapi-schema-validator (it knows `nullable`;
`nullable: true` next to an `allOf` reference, as Kaufland writes optional embedded
objects, is read as "this object or null", which is what the vendor means);
Swagger 2.0 documents (Amazon's) with jsonschema Draft 4 plus `x-nullable`. References
(`#/components/...`, `#/definitions/...`) resolve inside the document.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

import pytest

from tests.conftest import SHARED


@lru_cache(maxsize=None)
def load_spec(name: str) -> dict[str, Any]:
    if not SHARED.is_dir():
        pytest.skip(f"reference material not found at {SHARED} (../shared next to the repository)")
    path: Path = SHARED / "specs" / name
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text) if path.suffix in (".yml", ".yaml") else json.loads(text)


def _operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's operation for a concrete request path (base path prefixes removed)."""
    for template, item in spec["paths"].items():
        regex = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"
        for prefix in _prefixes(spec):
            if path.startswith(prefix) and re.match(regex, path[len(prefix):] or "/"):
                operation = item.get(method.lower())
                if operation is not None:
                    return template, operation
    raise AssertionError(f"{method} {path} is not in the published model")


def _prefixes(spec: dict[str, Any]) -> list[str]:
    found = [""]
    if "basePath" in spec:
        found.append(spec["basePath"].rstrip("/"))
    for server in spec.get("servers", []):
        url = server.get("url", "")
        found.append(re.sub(r"^[a-z]+://[^/]+", "", url).rstrip("/"))
        for name, variable in server.get("variables", {}).items():
            found.append(re.sub(r"^[a-z]+://[^/]+", "", url.replace("{" + name + "}", variable.get("default", "")))
                         .rstrip("/"))
    return sorted(set(found), key=len, reverse=True)


def response_schema(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any] | None:
    _, operation = _operation(spec, method, path)
    responses = operation["responses"]
    answer = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    assert answer is not None, f"{method} {path}: status {status} is not documented"
    while "$ref" in answer:  # a shared response (#/components/responses/...)
        node: Any = spec
        for part in str(answer["$ref"]).removeprefix("#/").split("/"):
            node = node[part]
        answer = node
    if "content" in answer:  # OpenAPI 3
        for media, content in answer["content"].items():
            if "json" in media and "schema" in content:
                return content["schema"]
        return None
    return answer.get("schema")  # Swagger 2


def validate(spec_name: str, method: str, path: str, status: int, body: Any) -> None:
    """Raise AssertionError with the first violation if `body` does not fit the model."""
    spec = load_spec(spec_name)
    schema = response_schema(spec, method, path, status)
    if schema is None:
        assert body in (None, b"", ""), f"{method} {path} {status}: the model documents no body"
        return
    if spec.get("swagger") == "2.0":
        registry = _registry(spec_name)
        validator: Any = Draft4Validator({"$ref": "urn:spec#" + _pointer_of(schema, spec)} if "$ref" in schema
                                         else {**schema, "definitions": spec.get("definitions", {})},
                                         registry=registry)
    else:
        registry = _registry(spec_name)
        root = {**schema, "components": spec.get("components", {})}
        validator = OAS30Validator(_rebase(root), registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path)
        raise AssertionError(f"{spec_name} {method} {path} {status}: at /{where}: {first.message[:300]}")


@lru_cache(maxsize=None)
def _registry(spec_name: str) -> Registry:  # type: ignore[type-arg]
    """The whole document as one resource (prepared once per spec)."""
    spec = load_spec(spec_name)
    if spec.get("swagger") == "2.0":
        return Registry().with_resource("urn:spec", Resource(_nullable_swagger(spec), DRAFT4))
    return Registry().with_resource("urn:spec", Resource.from_contents(_rebase(spec), default_specification=DRAFT4))


def _pointer_of(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    return str(schema["$ref"]).removeprefix("#")


def _rebase(schema: Any) -> Any:
    """Point local refs at the registered document; nullable allOf means "or null"."""
    if isinstance(schema, dict):
        node = {k: ("urn:spec" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
                for k, v in schema.items()}
        if node.get("nullable") is True and "allOf" in node and "type" not in node:
            rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
            return {**rest, "anyOf": [{"allOf": node["allOf"]}, {"enum": [None]}]}
        return node
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


def _nullable_swagger(spec: dict[str, Any]) -> dict[str, Any]:
    """Swagger 2.0 has no null type; `x-nullable: true` allows null."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: walk(v) for k, v in node.items()}
            if node.get("x-nullable") and "type" in node:
                node["type"] = [node["type"], "null"] if isinstance(node["type"], str) else [*node["type"], "null"]
            return node
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node
    return walk(spec)
