"""The image factory's OpenAPI document is valid and describes exactly the routes the app serves."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from image_factory.app import create_app
from image_factory.openapi import document
from totem.settings import Settings

METHODS = {"get", "put", "post", "delete", "patch"}


def served(app) -> set[tuple[str, str]]:
    """(path, method) for every route, in OpenAPI's path syntax (`/builds/{build_id}`)."""
    operations = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {(path, method.lower()) for method in rule.methods if method.lower() in METHODS}
    return operations


def documented(spec: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items() for method in item if method in METHODS}


def test_openapi_document_is_valid():
    validate(document())


def test_openapi_lists_every_route_the_image_factory_serves():
    app = create_app(Settings(hook_secret="unit-hook-secret", api_token="unit-token"), enqueue=lambda _id: None)
    served_document = app.test_client().get("/openapi.json").get_json()
    assert served_document == document()
    assert documented(served_document) == served(app)
    assert "BuildRequest" in served_document["components"]["schemas"]
