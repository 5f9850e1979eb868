"""The range of ids the API accepts, in one place.

Ids are 64-bit signed integers in both databases. An id of more digits than the largest
one cannot exist, so URLs refuse it before it reaches the database driver (SQLite raises
OverflowError past 2**63), and body fields and filters state the same bounds.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1
MAX_ID_DIGITS = len(str(MAX_ID)) - 1
# What a path's id must look like: at most 18 digits, so it always fits in MAX_ID.
ID_PATH_PATTERN = f"[0-9]{{1,{MAX_ID_DIGITS}}}"
# A number larger than any id or row count: bigger values need not be converted.
BEYOND_ANY_COUNT = 10**MAX_ID_DIGITS
