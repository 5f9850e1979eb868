"""The AsyncAPI document, as a validator of the messages it describes.

Shared by the in-process notification tests and the end-to-end ones, which check every
message they receive against spec/asyncapi.yaml.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT7

SPEC = Path(__file__).resolve().parents[3] / "spec"

_date_times = FormatChecker()


@_date_times.checks("date-time", raises=ValueError)
def _is_rfc3339_date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@cache
def asyncapi() -> dict[str, Any]:
    return yaml.safe_load((SPEC / "asyncapi.yaml").read_text())


def message_validator(message_type: str) -> Draft7Validator:
    """Validates a payload against the AsyncAPI message whose name is ``message_type``."""
    document = asyncapi()
    [key] = [
        key
        for key, message in document["components"]["messages"].items()
        if message["name"] == message_type
    ]
    registry = Registry().with_resource("urn:asyncapi", DRAFT7.create_resource(document))
    return Draft7Validator(
        {"$ref": f"urn:asyncapi#/components/messages/{key}/payload"},
        registry=registry,
        format_checker=_date_times,
    )


def assert_documented(message: dict[str, Any]) -> None:
    message_validator(message["type"]).validate(message)
