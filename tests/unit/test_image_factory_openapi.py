"""The image factory's OpenAPI document is valid and describes exactly the routes the app serves."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from image_factory.api_builds import MAX_LIMIT, MAX_OFFSET
from image_factory.api_logs import FOLLOW_VALUES
from image_factory.app import MAX_BODY, create_app
from image_factory.openapi import document
from image_factory.records import BUILD_ID_PATTERN, is_build_id, new_build_id
from image_factory.states import STATUSES
from tests.openapi_contract import METHODS, documented, served
from totem.api.openapi import BEARER, ERROR, ERROR_TEXTS, github_hook_body, service_paths
from totem.git_names import FIELDS, PATTERNS
from totem.settings import Settings

REF = "#/components/schemas/"


def test_openapi_document_is_valid():
    validate(document())


def test_openapi_lists_every_route_the_image_factory_serves():
    app = create_app(Settings(hook_secret="unit-hook-secret", api_token="unit-token"), enqueue=lambda _id: None)
    served_document = app.test_client().get("/openapi.json").get_json()
    assert served_document == document()
    assert documented(served_document) == served(app)
    assert "BuildRequest" in served_document["components"]["schemas"]


# what each route can answer
STATUSES_SENT = {  # 503: Redis unavailable (and for POST /builds also no queue)
    ("/hooks/github", "post"): {"200", "202", "204", "400", "401", "413", "415", "503"},
    ("/builds", "post"): {"200", "202", "400", "401", "403", "413", "415", "503"},
    ("/builds", "get"): {"200", "400", "503"},
    ("/builds/{build_id}", "get"): {"200", "404", "503"},
    ("/builds/{build_id}/log", "get"): {"200", "400", "404", "429", "503"},
    ("/health", "get"): {"200", "503"},
    ("/openapi.json", "get"): {"200"},
    ("/whoami", "get"): {"200", "401", "503"},
}


def test_each_operation_lists_the_statuses_its_route_sends():
    spec = document()
    for (path, method), codes in STATUSES_SENT.items():
        gunicorns = {"414"} if path != "/health" else set()  # sent before any route; operation() documents it
        assert set(spec["paths"][path][method]["responses"]) == codes | gunicorns, (path, method)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                for code, answer in op["responses"].items():
                    if code >= "400" and path != "/health":  # /health: its report
                        assert answer["content"]["application/json"]["schema"] == ERROR, (path, method, code)


def test_the_shared_builders_are_used_and_no_local_texts_remain():
    import image_factory.openapi as module

    assert not hasattr(module, "TEXTS")
    spec = document()
    assert spec["paths"]["/health"] == service_paths("Redis and Docker")["/health"]
    assert spec["paths"]["/openapi.json"] == service_paths("Redis and Docker")["/openapi.json"]
    assert spec["paths"]["/builds"]["post"]["security"] == BEARER
    assert spec["paths"]["/builds"]["post"]["responses"]["413"]["description"] == ERROR_TEXTS["413"]
    assert spec["paths"]["/hooks/github"]["post"]["requestBody"] == github_hook_body()
    assert f"{MAX_BODY // (1024 * 1024)} MB" in spec["info"]["description"]


def parameters(spec: dict, path: str, method: str) -> dict[str, dict]:
    found = [*spec["paths"][path].get("parameters", []), *spec["paths"][path][method].get("parameters", [])]
    return {p["name"]: p for p in found}


def test_parameters_carry_the_constraints_the_code_enforces():
    spec = document()
    listing = parameters(spec, "/builds", "get")
    assert set(listing) == {*FIELDS, "status", "limit", "offset"}
    for field in FIELDS:
        assert listing[field]["schema"]["pattern"] == PATTERNS[field]
    assert listing["status"]["schema"]["enum"] == [s.value for s in STATUSES]
    limit, offset = listing["limit"]["schema"], listing["offset"]["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"], limit["default"]) == ("integer", 1, MAX_LIMIT, 20)
    assert (offset["type"], offset["minimum"], offset["maximum"]) == ("integer", 0, MAX_OFFSET)
    log = parameters(spec, "/builds/{build_id}/log", "get")
    assert log["follow"]["schema"]["enum"] == list(FOLLOW_VALUES) and log["Last-Event-ID"]["in"] == "header"
    for path in ("/builds/{build_id}", "/builds/{build_id}/log"):
        assert parameters(spec, path, "get")["build_id"]["schema"]["pattern"] == BUILD_ID_PATTERN
    request = spec["components"]["schemas"]["BuildRequest"]
    assert request["required"] == list(FIELDS) and request["additionalProperties"] is False
    assert {f: request["properties"][f]["pattern"] for f in FIELDS} == PATTERNS


def test_build_ids_are_what_their_pattern_says():
    assert all(is_build_id(new_build_id()) for _ in range(100))
    for value in ["b" + "0" * 9, "b" + "f" * 39, "b" + "0" * 8, "b" + "0" * 40, "B0123456789", "b0123456789\n", ""]:
        assert is_build_id(value) == (re.fullmatch(BUILD_ID_PATTERN, value) is not None)
    assert not is_build_id("b0123456789\n") and not is_build_id("b" + "0" * 40)


def test_answers_have_their_schemas_and_media_types():
    spec = document()
    paths, schemas = spec["paths"], spec["components"]["schemas"]

    def schema_of(path, method, code, media="application/json"):
        return paths[path][method]["responses"][code]["content"][media]["schema"]

    assert schema_of("/builds", "post", "202") == schema_of("/builds", "post", "200") == {"$ref": REF + "BuildAnswer"}
    assert schema_of("/builds", "get", "200") == {"$ref": REF + "BuildPage"}
    assert schema_of("/builds/{build_id}", "get", "200") == {"$ref": REF + "Build"}
    log = paths["/builds/{build_id}/log"]["get"]["responses"]
    assert set(log["200"]["content"]) == {"text/plain", "text/event-stream"}
    assert "Retry-After" in log["429"]["headers"]
    assert schemas["BuildPage"]["properties"]["builds"]["items"] == {"$ref": REF + "Build"}
    assert schemas["BuildAnswer"]["properties"]["status"]["enum"] == ["queued", "reused"]
    build = schemas["Build"]
    assert set(build["required"]) == set(build["properties"])
    for unset in ("started_at", "finished_at", "image", "error", "superseded_by"):
        assert "null" in build["properties"][unset]["type"]
