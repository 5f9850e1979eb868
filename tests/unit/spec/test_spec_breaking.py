"""tools/spec_breaking.py: one test per rule on tiny documents, and the version-bump policy."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import spec_breaking as breaking

Document = dict[str, Any]


def document(version: str = "1.0.0") -> Document:
    """A small API: list and create events, one event component, a filter parameter."""
    event = {
        "type": "object",
        "required": ["id", "title", "status"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": ["OPEN", "CLOSED"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }
    event_request = {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string"},
            "location": {"type": "string"},
            "kind": {"type": "string", "enum": ["TALK", "WORKSHOP"]},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Events", "version": version},
        "paths": {
            "/events/": {
                "get": {
                    "security": [{"jwtAuth": []}, {}],
                    "parameters": [
                        {"in": "query", "name": "page", "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Event"},
                                    }
                                }
                            },
                        },
                        "400": {"description": "Bad page."},
                    },
                },
                "post": {
                    "security": [{"jwtAuth": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/EventRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Event"}
                                }
                            },
                        }
                    },
                },
            },
            "/events/{id}/": {
                "parameters": [
                    {"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}}
                ],
                "delete": {"responses": {"204": {"description": "Deleted."}}},
            },
        },
        "components": {"schemas": {"Event": event, "EventRequest": event_request}},
    }


def changed(change: Callable[[Document], None], version: str = "1.0.0") -> Document:
    doc = document(version)
    change(doc)
    return doc


def rules_of(change: Callable[[Document], None]) -> list[str]:
    return [found.rule for found in breaking.breaking_changes(document(), changed(change))]


def schemas(doc: Document) -> dict[str, Any]:
    return doc["components"]["schemas"]


def list_events(doc: Document) -> dict[str, Any]:
    return doc["paths"]["/events/"]["get"]


def test_identical_documents_have_no_breaking_changes() -> None:
    assert rules_of(lambda doc: None) == []


def test_removed_path_is_breaking() -> None:
    assert rules_of(lambda doc: doc["paths"].pop("/events/{id}/")) == ["path-removed"]


def test_removed_operation_is_breaking() -> None:
    assert rules_of(lambda doc: doc["paths"]["/events/"].pop("post")) == ["operation-removed"]


def test_removed_success_status_is_breaking() -> None:
    def created_becomes_ok(doc: Document) -> None:
        responses = doc["paths"]["/events/"]["post"]["responses"]
        responses["200"] = responses.pop("201")

    assert rules_of(created_becomes_ok) == ["success-response-removed"]


def test_removed_error_status_is_not_breaking() -> None:
    assert rules_of(lambda doc: list_events(doc)["responses"].pop("400")) == []


def test_removed_response_property_is_breaking_wherever_the_component_is_returned() -> None:
    changes = breaking.breaking_changes(
        document(), changed(lambda doc: schemas(doc)["Event"]["properties"].pop("title"))
    )

    assert {(change.rule, change.where) for change in changes} == {
        ("response-property-removed", "GET /events/ 200 application/json: [].title"),
        ("response-property-removed", "POST /events/ 201 application/json: title"),
    }


def test_response_property_that_may_now_be_missing_is_breaking() -> None:
    rules = rules_of(lambda doc: schemas(doc)["Event"]["required"].remove("status"))

    assert set(rules) == {"response-property-optional"}


def test_new_required_request_property_is_breaking() -> None:
    def require_a_new_field(doc: Document) -> None:
        request = schemas(doc)["EventRequest"]
        request["properties"]["capacity"] = {"type": "integer"}
        request["required"].append("capacity")

    assert rules_of(require_a_new_field) == ["request-property-required"]


def test_optional_request_property_becoming_required_is_breaking() -> None:
    rules = rules_of(lambda doc: schemas(doc)["EventRequest"]["required"].append("location"))

    assert rules == ["request-property-required"]


def test_new_optional_request_property_and_new_response_property_are_not_breaking() -> None:
    def add_fields(doc: Document) -> None:
        schemas(doc)["EventRequest"]["properties"]["capacity"] = {"type": "integer"}
        schemas(doc)["Event"]["properties"]["capacity"] = {"type": "integer"}
        schemas(doc)["Event"]["required"].append("capacity")

    assert rules_of(add_fields) == []


def test_request_body_becoming_required_is_breaking() -> None:
    def add_required_body(doc: Document) -> None:
        doc["paths"]["/events/{id}/"]["delete"]["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }

    assert rules_of(add_required_body) == ["request-body-required"]


def test_new_required_parameter_is_breaking() -> None:
    def add_parameter(doc: Document) -> None:
        list_events(doc)["parameters"].append(
            {"in": "query", "name": "city", "required": True, "schema": {"type": "string"}}
        )

    assert rules_of(add_parameter) == ["parameter-required"]


def test_optional_parameter_becoming_required_is_breaking() -> None:
    rules = rules_of(lambda doc: list_events(doc)["parameters"][0].update(required=True))

    assert rules == ["parameter-required"]


def test_new_optional_parameter_is_not_breaking() -> None:
    def add_parameter(doc: Document) -> None:
        list_events(doc)["parameters"].append(
            {"in": "query", "name": "city", "schema": {"type": "string"}}
        )

    assert rules_of(add_parameter) == []


@pytest.mark.parametrize(
    ("change", "breaks"),
    [
        pytest.param(
            lambda doc: schemas(doc)["Event"]["properties"]["id"].update(type="string"),
            True,
            id="response-integer-becomes-string",
        ),
        pytest.param(
            lambda doc: schemas(doc)["Event"]["properties"]["title"].update(nullable=True),
            True,
            id="response-property-becomes-nullable",
        ),
        pytest.param(
            lambda doc: schemas(doc)["Event"]["properties"]["id"].update(type="number"),
            True,
            id="response-integer-widens-to-number",
        ),
        pytest.param(
            lambda doc: schemas(doc)["EventRequest"]["properties"]["location"].update(
                type="integer"
            ),
            True,
            id="request-string-becomes-integer",
        ),
        pytest.param(
            lambda doc: list_events(doc)["parameters"][0]["schema"].update(type="string"),
            True,
            id="parameter-integer-becomes-string",
        ),
        pytest.param(
            lambda doc: list_events(doc)["parameters"][0]["schema"].update(type="number"),
            False,
            id="parameter-integer-widens-to-number",
        ),
        pytest.param(
            lambda doc: schemas(doc)["EventRequest"]["properties"]["location"].update(
                nullable=True
            ),
            False,
            id="request-property-accepts-null",
        ),
        pytest.param(
            lambda doc: schemas(doc)["Event"]["properties"]["tags"]["items"].update(type="integer"),
            True,
            id="response-array-items-change-type",
        ),
    ],
)
def test_changed_type_breaks_only_where_clients_notice(
    change: Callable[[Document], None], breaks: bool
) -> None:
    assert ("type-changed" in rules_of(change)) is breaks


@pytest.mark.parametrize(
    ("change", "breaks"),
    [
        pytest.param(
            lambda doc: schemas(doc)["Event"]["properties"]["status"]["enum"].remove("CLOSED"),
            True,
            id="response-value-removed",
        ),
        pytest.param(
            lambda doc: schemas(doc)["EventRequest"]["properties"]["kind"]["enum"].remove(
                "WORKSHOP"
            ),
            True,
            id="request-value-removed",
        ),
        pytest.param(
            lambda doc: list_events(doc)["parameters"][0]["schema"].update(enum=[1, 2, 3]),
            True,
            id="parameter-limited-to-an-enum",
        ),
        pytest.param(
            lambda doc: schemas(doc)["EventRequest"]["properties"]["kind"]["enum"].append("DEMO"),
            False,
            id="request-value-added",
        ),
    ],
)
def test_narrowed_enum_is_breaking(change: Callable[[Document], None], breaks: bool) -> None:
    assert ("enum-narrowed" in rules_of(change)) is breaks


def test_anonymous_access_withdrawn_is_breaking() -> None:
    rules = rules_of(lambda doc: list_events(doc).update(security=[{"jwtAuth": []}]))

    assert rules == ["security-tightened"]


def test_operation_without_security_gaining_some_is_breaking() -> None:
    rules = rules_of(
        lambda doc: doc["paths"]["/events/{id}/"]["delete"].update(security=[{"jwtAuth": []}])
    )

    assert rules == ["security-tightened"]


def test_recursive_schemas_are_compared_without_looping() -> None:
    def make_recursive(doc: Document) -> None:
        schemas(doc)["Event"]["properties"]["parent"] = {"$ref": "#/components/schemas/Event"}

    old = changed(make_recursive)
    new = copy.deepcopy(old)
    schemas(new)["Event"]["properties"].pop("title")

    assert {change.rule for change in breaking.breaking_changes(old, new)} == {
        "response-property-removed"
    }


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        pytest.param("0.1.0", "0.2.0", True, id="new-minor-while-0.x"),
        pytest.param("0.1.0", "0.1.1", False, id="new-patch-while-0.x"),
        pytest.param("0.1.0", "1.0.0", True, id="first-major"),
        pytest.param("1.2.0", "2.0.0", True, id="new-major"),
        pytest.param("1.2.0", "1.3.0", False, id="new-minor-after-1.0"),
        pytest.param("1.2.0", "1.2.0", False, id="unchanged"),
        pytest.param("2.0.0", "1.9.0", False, id="major-lowered"),
    ],
)
def test_breaking_changes_need_a_major_version(old: str, new: str, allowed: bool) -> None:
    assert breaking.allows_breaking_changes(old, new) is allowed


def test_check_fails_a_breaking_change_without_a_new_major_version() -> None:
    old = document("1.2.0")
    new = changed(lambda doc: doc["paths"].pop("/events/{id}/"), version="1.3.0")

    ok, lines = breaking.check(old, new)

    assert not ok
    assert "path-removed: /events/{id}/: removed" in "\n".join(lines)
    assert "at least 2.0.0" in lines[-1]


def test_check_passes_a_breaking_change_with_a_new_major_version() -> None:
    new = changed(lambda doc: doc["paths"].pop("/events/{id}/"), version="2.0.0")

    ok, _ = breaking.check(document("1.2.0"), new)

    assert ok


def test_version_that_is_not_semantic_is_refused() -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        breaking.allows_breaking_changes("1.2", "2.0.0")


def test_command_line_exits_1_on_an_unannounced_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(document("0.1.0")))
    new.write_text(
        yaml.safe_dump(changed(lambda doc: doc["paths"].pop("/events/{id}/"), version="0.1.1"))
    )

    assert breaking.main([str(old), str(new)]) == 1
    assert "path-removed" in capsys.readouterr().out


def test_command_line_requires_a_changelog_section_for_the_version(tmp_path: Path) -> None:
    spec, changelog = tmp_path / "openapi.yaml", tmp_path / "CHANGELOG.md"
    spec.write_text(yaml.safe_dump(document("0.2.0")))
    changelog.write_text("# Changelog\n\n## [0.1.0] - 2026-11-27\n")

    assert breaking.main([str(spec), str(spec), "--changelog", str(changelog)]) == 1

    changelog.write_text("# Changelog\n\n## [0.2.0] - 2026-12-01\n\n## [0.1.0] - 2026-11-27\n")
    assert breaking.main([str(spec), str(spec), "--changelog", str(changelog)]) == 0


def test_checked_in_spec_has_a_semantic_version_and_a_changelog_section() -> None:
    root = Path(__file__).resolve().parents[3]
    version = yaml.safe_load((root / "spec" / "openapi.yaml").read_text())["info"]["version"]

    breaking.parse_version(version)
    assert breaking.changelog_has_version((root / "CHANGELOG.md").read_text(), version)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_spec_is_compared_with_its_parent_commit_or_with_head_when_changed(tmp_path: Path) -> None:
    spec = tmp_path / "spec" / "openapi.yaml"
    spec.parent.mkdir()
    _git(tmp_path, "init", "-q")
    spec.write_text("first\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")

    assert breaking.previous_version(spec) is None

    spec.write_text("second\n")
    _git(tmp_path, "commit", "-q", "-am", "second")
    assert breaking.previous_version(spec) == ("first\n", "HEAD~1")

    spec.write_text("third\n")
    assert breaking.previous_version(spec) == ("second\n", "HEAD")


def nullable_31(doc: Document) -> None:
    """Events gain a nullable `venue`, written the OpenAPI 3.1 way."""
    doc["openapi"] = "3.1.0"
    schemas(doc)["Venue"] = {"type": "object", "properties": {"name": {"type": "string"}}}
    schemas(doc)["Event"]["properties"]["venue"] = {
        "oneOf": [{"$ref": "#/components/schemas/Venue"}, {"type": "null"}]
    }


def test_openapi_31_nullable_reference_is_compared_with_what_it_refers_to() -> None:
    before = changed(nullable_31)
    after = changed(nullable_31)
    schemas(after)["Venue"]["properties"].pop("name")

    assert [c.rule for c in breaking.breaking_changes(before, after)] == [
        "response-property-removed",
        "response-property-removed",
    ]


def test_openapi_30_nullable_reference_rewritten_for_31_is_not_breaking() -> None:
    before = changed(nullable_31)
    schemas(before)["Event"]["properties"]["venue"] = {
        "allOf": [{"$ref": "#/components/schemas/Venue"}],
        "nullable": True,
    }
    before["openapi"] = "3.0.3"

    assert breaking.breaking_changes(before, changed(nullable_31)) == []


def test_openapi_31_type_array_with_null_is_nullable() -> None:
    before = document()
    schemas(before)["Event"]["properties"]["title"]["nullable"] = True
    after = changed(
        lambda doc: schemas(doc)["Event"]["properties"]["title"].update(type=["string", "null"])
    )

    assert breaking.breaking_changes(before, after) == []
    assert rules_of(
        lambda doc: schemas(doc)["Event"]["properties"]["title"].update(type=["string", "null"])
    ) == ["type-changed", "type-changed"]


def with_webhook(doc: Document) -> None:
    doc["openapi"] = "3.1.0"
    doc["webhooks"] = {
        "EventCancelled": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Event"}}
                    }
                },
                "responses": {"200": {"description": ""}},
            }
        }
    }


def test_webhook_message_losing_a_property_or_the_webhook_is_breaking() -> None:
    before = changed(with_webhook)
    fewer = changed(with_webhook)
    fewer["webhooks"]["EventCancelled"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ] = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    gone = changed(with_webhook)
    gone["webhooks"] = {}

    assert {c.rule for c in breaking.breaking_changes(before, fewer)} == {
        "response-property-removed"
    }
    assert [c.rule for c in breaking.breaking_changes(before, gone)] == ["webhook-removed"]
    assert breaking.breaking_changes(document(), before) == []
