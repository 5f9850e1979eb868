"""Breaking changes between two versions of an OpenAPI 3.0 or 3.1 document.

    python tools/spec_breaking.py OLD NEW [--changelog CHANGELOG.md]
    python tools/spec_breaking.py --previous spec/openapi.yaml [--changelog CHANGELOG.md]

Exits 1 when NEW breaks a client written against OLD and `info.version` was not raised
enough to say so: a new major version, or while the API is 0.x a new minor one
(semantic versioning's rule for initial development). With --changelog it also exits 1
when CHANGELOG.md has no section for NEW's version.

Modelled on the small differ github/rest-api-description keeps for its own spec (oasdiff
and optic need the network here): a handful of rules a client would notice, each with a
test in tests/unit/test_spec_breaking.py, rather than a general diff. Not checked, on
purpose: added enum values in responses, tightened string or number limits, and removed
request properties or optional parameters (the server ignores what it does not know).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

Document = dict[str, Any]
Schema = dict[str, Any]
Direction = Literal["request", "response"]

NULL = {"type": "null"}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")

# The rules, by the name a report uses.
RULES = {
    "path-removed": "a path is gone",
    "operation-removed": "a method on a path is gone",
    "success-response-removed": "a 2xx status or its media type is gone",
    "response-property-removed": "a property of a success response is gone",
    "response-property-optional": "a property a success response always had may be missing",
    "request-body-required": "a request body became required",
    "request-property-required": "a request body property is new and required, or became so",
    "parameter-required": "a parameter is new and required, or became so",
    "type-changed": "a property or parameter no longer has the type clients use",
    "enum-narrowed": "an enum lost values",
    "security-tightened": "an operation open to anonymous callers now needs credentials",
    "webhook-removed": "a webhook, its method or its media type is no longer sent",
}


@dataclass(frozen=True)
class Change:
    rule: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.where}: {self.detail}"


class Resolver:
    """Follows local `$ref`s (`#/components/...`) within one document."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def __call__(self, node: Any) -> Any:
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"cannot resolve $ref {ref!r}")
            seen.add(ref)
            node = self.document
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def schema(self, node: Any) -> Schema:
        """The schema with allOf merged, so properties and required read in one place.

        OpenAPI 3.1's nullable reference, `oneOf: [X, {type: "null"}]` (3.0's was
        `allOf: [X], nullable: true`), reads as X made nullable, so X is compared.
        """
        schema = self(node) or {}
        for key in ("oneOf", "anyOf"):
            members = schema.get(key)
            if isinstance(members, list) and len(members) == 2 and NULL in members:
                rest = {k: v for k, v in schema.items() if k != key}
                other = members[1] if members[0] == NULL else members[0]
                return {**self.schema(other), **rest, "nullable": True}
        if "allOf" not in schema:
            return schema
        merged: Schema = {key: value for key, value in schema.items() if key != "allOf"}
        for part in schema["allOf"]:
            part = self.schema(part)
            merged.setdefault("properties", {}).update(part.get("properties", {}))
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            for key, value in part.items():
                if key not in ("properties", "required"):
                    merged.setdefault(key, value)
        return merged


def types_of(schema: Schema, resolve: Resolver) -> set[str]:
    """The JSON types a value may have; empty when the schema does not say."""
    if "oneOf" in schema or "anyOf" in schema:
        found: set[str] = set()
        for member in schema.get("oneOf", []) + schema.get("anyOf", []):
            member_types = types_of(resolve.schema(member), resolve)
            if not member_types:
                return set()
            found |= member_types
    elif isinstance(schema.get("type"), list):
        found = set(schema["type"])
    elif "type" in schema:
        found = {schema["type"]}
    else:
        return set()
    if schema.get("nullable"):
        found.add("null")
    return found


def _not_covered(types: set[str], by: set[str]) -> set[str]:
    """Types in `types` that no type in `by` accepts (a number accepts an integer)."""
    return {kind for kind in types if kind not in by and not (kind == "integer" and "number" in by)}


def _key(node: Any) -> Any:
    return node["$ref"] if isinstance(node, dict) and "$ref" in node else id(node)


def compare_schemas(
    old: Any,
    new: Any,
    old_resolve: Resolver,
    new_resolve: Resolver,
    direction: Direction,
    where: str,
    field: str = "",
    seen: frozenset[tuple[Any, Any]] = frozenset(),
) -> Iterator[Change]:
    """Changes that break a client sending (request) or reading (response) this value.

    `field` is the dotted path to the value within the body, `[]` marking array items.
    """
    if (_key(old), _key(new)) in seen:
        return
    seen = seen | {(_key(old), _key(new))}
    old_schema, new_schema = old_resolve.schema(old), new_resolve.schema(new)
    label = f"{where}: {field}" if field else where

    old_types, new_types = types_of(old_schema, old_resolve), types_of(new_schema, new_resolve)
    # A request may accept more than before, a response may send less.
    lost = (
        _not_covered(old_types, new_types)
        if direction == "request"
        else _not_covered(new_types, old_types)
    )
    if old_types and new_types and lost:
        old_text, new_text = "/".join(sorted(old_types)), "/".join(sorted(new_types))
        yield Change("type-changed", label, f"type {old_text} became {new_text}")
        return

    old_enum, new_enum = old_schema.get("enum"), new_schema.get("enum")
    if new_enum is not None:
        if old_enum is None and direction == "request":
            yield Change("enum-narrowed", label, f"now limited to {new_enum}")
        elif old_enum is not None and (removed := [v for v in old_enum if v not in new_enum]):
            yield Change("enum-narrowed", label, f"no longer allows {removed}")

    old_properties = old_schema.get("properties", {})
    new_properties = new_schema.get("properties", {})
    old_required = set(old_schema.get("required", []))
    new_required = set(new_schema.get("required", []))
    prefix = f"{field}." if field else ""
    if direction == "response":
        for name in old_properties:
            if name not in new_properties:
                yield Change("response-property-removed", f"{where}: {prefix}{name}", "removed")
            elif name in old_required and name not in new_required:
                yield Change(
                    "response-property-optional", f"{where}: {prefix}{name}", "no longer required"
                )
    else:
        for name in sorted(new_required - old_required):
            detail = "became required" if name in old_properties else "new and required"
            yield Change("request-property-required", f"{where}: {prefix}{name}", detail)
    for name, old_property in old_properties.items():
        if name in new_properties:
            yield from compare_schemas(
                old_property,
                new_properties[name],
                old_resolve,
                new_resolve,
                direction,
                where,
                f"{prefix}{name}",
                seen,
            )
    if "items" in old_schema and "items" in new_schema:
        yield from compare_schemas(
            old_schema["items"],
            new_schema["items"],
            old_resolve,
            new_resolve,
            direction,
            where,
            f"{field}[]",
            seen,
        )


def _parameters(path_item: Any, operation: Any, resolve: Resolver) -> dict[tuple[str, str], Any]:
    """Path-level parameters overridden by operation-level ones, keyed (in, name)."""
    parameters = {}
    for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = resolve(parameter)
        parameters[(parameter["in"], parameter["name"])] = parameter
    return parameters


def _is_anonymous(operation: Any, document: Document) -> bool:
    security = operation.get("security", document.get("security", []))
    return not security or any(requirement == {} for requirement in security)


def compare_operations(
    old: Any,
    new: Any,
    old_path_item: Any,
    new_path_item: Any,
    old_resolve: Resolver,
    new_resolve: Resolver,
    where: str,
) -> Iterator[Change]:
    if _is_anonymous(old, old_resolve.document) and not _is_anonymous(new, new_resolve.document):
        yield Change("security-tightened", where, "anonymous callers are refused now")

    old_parameters = _parameters(old_path_item, old, old_resolve)
    for key, parameter in _parameters(new_path_item, new, new_resolve).items():
        label = f"{where} {key[0]} parameter {key[1]}"
        before = old_parameters.get(key)
        if parameter.get("required") and not (before and before.get("required")):
            yield Change(
                "parameter-required", label, "became required" if before else "new and required"
            )
        if before and "schema" in before and "schema" in parameter:
            yield from compare_schemas(
                before["schema"], parameter["schema"], old_resolve, new_resolve, "request", label
            )

    old_body, new_body = old_resolve(old.get("requestBody")), new_resolve(new.get("requestBody"))
    if new_body and new_body.get("required") and not (old_body and old_body.get("required")):
        yield Change("request-body-required", f"{where} request body", "became required")
    if old_body and new_body:
        for media_type, old_media in old_body.get("content", {}).items():
            new_media = new_body.get("content", {}).get(media_type)
            if new_media and "schema" in old_media and "schema" in new_media:
                yield from compare_schemas(
                    old_media["schema"],
                    new_media["schema"],
                    old_resolve,
                    new_resolve,
                    "request",
                    f"{where} request {media_type}",
                )

    new_responses = new.get("responses", {})
    for status, old_response in old.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        if status not in new_responses:
            yield Change("success-response-removed", f"{where} {status}", "no longer returned")
            continue
        old_content = old_resolve(old_response).get("content", {})
        new_content = new_resolve(new_responses[status]).get("content", {})
        for media_type, old_media in old_content.items():
            label = f"{where} {status} {media_type}"
            if media_type not in new_content:
                yield Change("success-response-removed", label, "media type no longer returned")
            elif "schema" in old_media and "schema" in new_content[media_type]:
                yield from compare_schemas(
                    old_media["schema"],
                    new_content[media_type]["schema"],
                    old_resolve,
                    new_resolve,
                    "response",
                    label,
                )


def breaking_changes(old: Document, new: Document) -> list[Change]:
    """Every change in `new` that breaks a client written against `old`."""
    old_resolve, new_resolve = Resolver(old), Resolver(new)
    changes: list[Change] = []
    new_paths = new.get("paths", {})
    for path, old_item in old.get("paths", {}).items():
        if path not in new_paths:
            changes.append(Change("path-removed", path, "removed"))
            continue
        old_item, new_item = old_resolve(old_item), new_resolve(new_paths[path])
        for method in HTTP_METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            if method not in new_item:
                changes.append(Change("operation-removed", where, "removed"))
                continue
            changes.extend(
                compare_operations(
                    old_item[method],
                    new_item[method],
                    old_item,
                    new_item,
                    old_resolve,
                    new_resolve,
                    where,
                )
            )
    changes.extend(webhook_changes(old, new, old_resolve, new_resolve))
    return changes


def webhook_changes(
    old: Document, new: Document, old_resolve: Resolver, new_resolve: Resolver
) -> Iterator[Change]:
    """OpenAPI 3.1 webhooks: the API sends the request body, so a receiver reads it as a
    client reads a response."""
    new_webhooks = new.get("webhooks", {})
    for name, old_item in old.get("webhooks", {}).items():
        if name not in new_webhooks:
            yield Change("webhook-removed", f"webhook {name}", "no longer sent")
            continue
        old_item, new_item = old_resolve(old_item), new_resolve(new_webhooks[name])
        for method in HTTP_METHODS:
            if method not in old_item:
                continue
            where = f"webhook {name} {method.upper()}"
            if method not in new_item:
                yield Change("webhook-removed", where, "no longer sent")
                continue
            old_body = old_resolve(old_item[method].get("requestBody")) or {}
            new_body = new_resolve(new_item[method].get("requestBody")) or {}
            for media_type, old_media in old_body.get("content", {}).items():
                new_media = new_body.get("content", {}).get(media_type)
                label = f"{where} {media_type}"
                if new_media is None:
                    yield Change("webhook-removed", label, "media type no longer sent")
                elif "schema" in old_media and "schema" in new_media:
                    yield from compare_schemas(
                        old_media["schema"],
                        new_media["schema"],
                        old_resolve,
                        new_resolve,
                        "response",
                        label,
                    )


def parse_version(version: str) -> tuple[int, int, int]:
    match = SEMVER.match(str(version))
    if not match:
        raise ValueError(f"info.version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def allows_breaking_changes(old_version: str, new_version: str) -> bool:
    """A new major version may break clients; so may a new minor one while 0.x."""
    old_major, old_minor, _ = parse_version(old_version)
    new_major, new_minor, _ = parse_version(new_version)
    if new_major != old_major:
        return new_major > old_major
    return old_major == 0 and new_minor > old_minor


def changelog_has_version(changelog: str, version: str) -> bool:
    """Keep a Changelog headings: `## [1.2.0] - 2026-01-31`."""
    return re.search(rf"^## \[{re.escape(version)}\]", changelog, re.MULTILINE) is not None


def check(old: Document, new: Document) -> tuple[bool, list[str]]:
    """Whether `new` may replace `old`, and the report lines that say why."""
    old_version, new_version = old["info"]["version"], new["info"]["version"]
    changes = breaking_changes(old, new)
    if not changes:
        return True, [f"No breaking changes ({old_version} -> {new_version})."]
    lines = [f"{len(changes)} breaking change(s) ({old_version} -> {new_version}):"]
    lines += [f"  - {change}" for change in changes]
    if allows_breaking_changes(old_version, new_version):
        return True, [*lines, f"Allowed: {new_version} is a new major version for the API."]
    old_major, old_minor, _ = parse_version(old_version)
    needed = f"0.{old_minor + 1}.0" if old_major == 0 else f"{old_major + 1}.0.0"
    return False, [
        *lines,
        f"Not allowed without raising info.version to at least {needed} "
        "(config/settings.py SPECTACULAR_SETTINGS['VERSION']) and saying so in CHANGELOG.md.",
    ]


def previous_version(path: Path) -> tuple[str, str] | None:
    """The committed text `path` should be compared with, and which commit it is.

    With uncommitted changes to `path`, HEAD's version; otherwise HEAD~1's, so a fresh CI
    clone checks the latest commit. None when there is no such version (a first commit,
    a shallow clone, a new file, or no git at all).
    """

    def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)

    try:
        top = git("rev-parse", "--show-toplevel", cwd=path.resolve().parent)
    except FileNotFoundError:
        return None
    if top.returncode != 0:
        return None
    root = Path(top.stdout.strip()).resolve()
    relative = path.resolve().relative_to(root).as_posix()
    changed = git("diff", "--quiet", "HEAD", "--", relative, cwd=root).returncode != 0
    commit = "HEAD" if changed else "HEAD~1"
    shown = git("show", f"{commit}:{relative}", cwd=root)
    if shown.returncode != 0:
        return None
    return shown.stdout, commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", nargs="?", type=Path, help="the previous document")
    parser.add_argument("new", type=Path, help="the new document")
    parser.add_argument(
        "--previous",
        action="store_true",
        help="compare NEW with its previous version in git instead of with OLD",
    )
    parser.add_argument("--changelog", type=Path, help="require a section for NEW's version")
    args = parser.parse_args(argv)
    if (args.old is None) != args.previous:
        parser.error("give OLD and NEW, or --previous and NEW")

    new = yaml.safe_load(args.new.read_text())
    ok = True
    if args.previous:
        found = previous_version(args.new)
        if found is None:
            print(f"No previous committed version of {args.new}: nothing to compare.")
            old = None
        else:
            print(f"Comparing {args.new} with its version at {found[1]}.")
            old = yaml.safe_load(found[0])
    else:
        old = yaml.safe_load(args.old.read_text())
    if old is not None:
        try:
            ok, lines = check(old, new)
        except ValueError as error:
            ok, lines = False, [str(error)]
        print("\n".join(lines))
    if args.changelog:
        version = new["info"]["version"]
        if not changelog_has_version(args.changelog.read_text(), version):
            print(f"{args.changelog} has no section for {version} (## [{version}] - DATE).")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
