"""OpenAPI post-processing: ASCII names for everything a client generator turns into code.

django-filter's choice filters reach the schema as inline enums titled with the model field's
Chinese verbose name (``title: 状态``), and generators name the type after it:
openapi-python-client made ``AssignmentsList状态``. A query parameter whose choices are those of a
named component enum now refers to it (``AssignmentStatusEnum``, the same type as the response
field); any other inline enum loses its non-ASCII title, so the generator names it after the
operation and parameter (``DepartmentsListKind``). The Chinese labels stay in the descriptions.
"""

from __future__ import annotations

from typing import Any


def _key(values: list[Any]) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in values))


def ascii_parameter_enums(result: dict[str, Any], generator: object, request: object, public: bool) -> dict[str, Any]:
    schemas = result.get("components", {}).get("schemas", {})
    named = {_key(s["enum"]): name for name, s in sorted(schemas.items()) if name.endswith("Enum") and "enum" in s}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                target = schema.get("items", schema) if schema.get("type") == "array" else schema
                if "enum" not in target:
                    continue
                name = named.get(_key(target["enum"]))
                if name:
                    target.clear()
                    target["$ref"] = f"#/components/schemas/{name}"
                elif not str(target.get("title", "")).isascii():
                    target.pop("title")
    return result
