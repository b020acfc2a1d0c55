"""Is a service what its OpenAPI document says? Every route documented, and every answer a status its
operation lists with a body its schema accepts. Service-agnostic: each helper takes the Flask app
and the document (the tests of the orchestrator, the deployer and the image factory use them)."""

from __future__ import annotations

import re

from flask import Flask
from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException

METHODS = {"get", "put", "post", "delete", "patch"}


def template(rule: str, named: bool = True) -> str:
    """A route rule in OpenAPI's path syntax: `/builds/<build_id>` → `/builds/{build_id}` (converters
    dropped: `<path:ref>` → `{ref}`); unnamed, every parameter is `{}` (`/builds/{}`), which is how a
    documented path is matched to a rule whose parameter it names otherwise."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>|\{([^{}]+)\}", r"{\1\2}" if named else "{}", rule)


def served(app: Flask, named: bool = True) -> set[tuple[str, str]]:
    """(path, method) for every route the app serves, in OpenAPI's path syntax."""
    return {
        (template(rule.rule, named), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods or ()
        if method.lower() in METHODS
    }


def documented(spec: dict, named: bool = True) -> set[tuple[str, str]]:
    """(path, method) for every operation of the document."""
    return {
        (template(path, named), method) for path, item in spec["paths"].items() for method in item if method in METHODS
    }


def schema_problems(spec: dict, schema: dict, instance) -> list[str]:
    """JSON Schema problems of `instance` against `schema` ($refs resolved in the document's components)."""
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def documented_path(app: Flask, spec: dict, response) -> str | None:
    """The document's path of the route that answered `response` (a test client's: its request is
    routed again as the app routed it); None when no route took it."""
    try:
        rule, _ = app.url_map.bind_to_environ(response.request.environ).match(return_rule=True)
    except HTTPException:
        return None
    shape = template(rule.rule, named=False)
    paths = [path for path in spec["paths"] if template(path, named=False) == shape]
    assert paths, f"the route {rule.rule} is not documented"
    return paths[0]


def check_answer(app: Flask, spec: dict, response):
    """Assert that `response` (from a test client of `app`) is what `spec` says its operation answers:
    a listed status, a documented media type, a body its schema accepts (none where none is documented).
    An unrouted request must be a 404 or 405 in the error envelope, which no operation describes.
    Returns the JSON body (None when there is none)."""
    method = response.request.method.lower()
    path = documented_path(app, spec, response)
    data = response.get_json(silent=True)
    if path is None:
        assert response.status_code in (404, 405) and data["error"], response.status_code
        return data
    where = f"{method.upper()} {path} {response.status_code}"
    responses = spec["paths"][path][method]["responses"]
    assert str(response.status_code) in responses, f"{where}: not documented ({response.get_data()[:300]!r})"
    content = responses[str(response.status_code)].get("content")
    if not content:
        assert not response.get_data(), f"{where} has a body"
        return None
    assert response.mimetype in content, f"{where} is {response.mimetype}"
    if response.mimetype == "application/json":
        problems = schema_problems(spec, content["application/json"]["schema"], data)
        assert not problems, f"{where}: {problems} in {data}"
    return data
