"""Hostile and malformed input: always a documented 4xx in the problem shape, nothing half-written.

Every case asserts the status, the problem ``code``, the ``application/problem+json``
content type and that no row was written or changed. Where the API accepts an input that
looks odd (numeric strings, integral floats, far-future datetimes, emoji and RTL text),
the test says so and checks the stored value, so the leniency is a decision, not an
accident.

The rules these tests hold the API to:

- Strings: NUL characters and lone surrogates are refused (PostgreSQL cannot store either);
  max_length counts characters, not bytes; any other Unicode round-trips exactly.
- Bodies: above DATA_UPLOAD_MAX_MEMORY_SIZE (256 KiB) -> 413 ``request_too_large``; not
  JSON -> 415; JSON that does not parse -> 400 ``parse_error``; not an object -> 400.
- Integers: DRF's IntegerField rules (``"5"`` and ``5.0`` are 5, ``5.5`` is refused), with
  explicit bounds on every field, so SQLite and PostgreSQL answer the same.
- Datetimes: ISO 8601; without an offset they are UTC; years 1-9999 only, and a value
  that leaves that range when converted to UTC is refused (``overflow``).
- Query strings: a NUL anywhere -> 400; when a parameter is repeated the last value wins;
  oversized values are refused before any query runs.

One module per theme (strings, sizes, unicode, integers, datetimes, shapes, bodies,
query strings); test_property_based.py then drives the same endpoints with generated
JSON. The endpoint table they share is endpoints.py with the ``endpoints`` fixture in
conftest.py. Hostile page numbers and sizes of the events list are in
tests/unit/api/test_events_list.py, with the rest of its pagination.
"""
