"""Usernames and emails compared as people read them.

Two spellings that a reader takes for one name are one identity: the key is Unicode
NFKC with full case folding (the PRECIS approach of RFC 8265: width and compatibility
mapping, then case folding), so "Ärger"/"ärger" and "straße"/"STRASSE" are one account
on SQLite and PostgreSQL alike, where SQL's lower() folded ASCII only (SQLite) or left
"ß" alone. The keys are columns the database holds unique.

Look-alikes are refused at sign-up with the Unicode confusables data as packaged by
confusable-homoglyphs (the library django-registration uses): a username that mixes
scripts with a character that imitates another script's ("admin" with a Cyrillic
"a", U+0430), or
whose skeleton (each character replaced by the Latin one it imitates) is an existing
username's.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs import confusables


def identity_key(value: str) -> str:
    """The form two spellings of one name share."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    # Case folding can leave a string that is not normalized again ("ǰ" folds apart).
    return unicodedata.normalize("NFKC", folded)


def skeleton(value: str) -> str:
    """The identity key with every character replaced by the Latin one it looks like."""
    return "".join(_latin_look_alike(character) for character in identity_key(value))


@cache
def _latin_look_alike(character: str) -> str:
    found = confusables.is_confusable(character, greedy=False, preferred_aliases=["latin"])
    if not found:
        return character
    latin = [
        glyph["c"]
        for glyph in found[0]["homoglyphs"]
        if all(unicodedata.name(c, "").startswith("LATIN") for c in glyph["c"])
    ]
    return latin[0].casefold() if latin else character


def mixes_scripts_deceptively(value: str) -> bool:
    """Mixed scripts with a character that imitates another script (UTS #39)."""
    return bool(confusables.is_dangerous(value))
