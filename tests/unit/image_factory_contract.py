"""Is an answer of the image factory what its OpenAPI document says? (used by its tests)"""

from __future__ import annotations

import re

from flask import Flask
from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException

from image_factory.openapi import document


def template(app: Flask, method: str, path: str) -> str | None:
    """The documented path (`/builds/{build_id}`) a request is routed to; None when nothing routes it."""
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method=method, return_rule=True)
    except HTTPException:
        return None
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)


def schema_check(schema: dict, instance, spec: dict | None = None) -> list[str]:
    """JSON Schema problems of `instance` ($refs resolved in the document's components)."""
    validator = Draft202012Validator({**schema, "components": (spec or document())["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def check_answer(app: Flask, method: str, path: str, response, spec: dict | None = None) -> None:
    """Assert the status is documented for the operation and the body matches its schema."""
    spec = spec or document()
    documented_path = template(app, method, path)
    if documented_path is None:  # unrouted: a 404 or 405 in the envelope, which no operation describes
        assert response.status_code in (404, 405) and response.get_json()["error"], response.status_code
        return
    operation = spec["paths"][documented_path][method.lower()]
    code = str(response.status_code)
    assert code in operation["responses"], f"{method} {documented_path} answered {code}, not documented"
    content = operation["responses"][code].get("content")
    if not content:
        assert not response.get_data(), f"{method} {documented_path} {code} has a body"
        return
    assert response.mimetype in content, f"{method} {documented_path} {code} is {response.mimetype}"
    if response.mimetype == "application/json":
        problems = schema_check(content["application/json"]["schema"], response.get_json(), spec)
        assert not problems, f"{method} {documented_path} {code}: {problems}"
