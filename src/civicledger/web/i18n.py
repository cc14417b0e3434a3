"""The translation catalogue: every word the portal shows, in Korean and in English.

Text lives in ``i18n/<language>/*.json``, one file per area of the portal (so
areas grow without touching each other), each a flat ``key -> text`` map; a key
may live in only one file. Templates and scripts name keys
(``t("nav.explorer")``), never words. Korean is the default;
``?lang=en`` switches and a cookie remembers the choice. A text may hold
``{name}`` fields filled by ``t(key, name=...)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import Request

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
COOKIE = "lang"
CATALOGUE_DIR = Path(__file__).with_name("i18n")


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """The texts of ``language`` (one of LANGUAGES), read once."""
    if language not in LANGUAGES:
        raise KeyError(f"no catalogue for language {language!r}")
    texts: dict[str, str] = {}
    for path in sorted((CATALOGUE_DIR / language).glob("*.json")):
        part: dict[str, str] = json.loads(path.read_text("utf-8"))
        twice = texts.keys() & part.keys()
        if twice:
            raise ValueError(f"{path.name} repeats keys of another {language} file: {sorted(twice)}")
        texts.update(part)
    return dict(sorted(texts.items()))


def requested_language(request: Request) -> str | None:
    """The language the request asks to switch to with ``?lang=``, if it is one we have."""
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else None


def language_of(request: Request) -> str:
    """``?lang=``, else the remembered cookie, else Korean."""
    remembered = request.cookies.get(COOKIE)
    return requested_language(request) or (remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE)


@dataclass(frozen=True, slots=True)
class Translator:
    language: str

    def __call__(self, key: str, **fields: object) -> str:
        """The text for ``key``; a missing key shows as itself, so it is seen (and a test fails)."""
        text = catalogue(self.language).get(key, key)
        return text.format(**fields) if fields else text

    @property
    def texts(self) -> Mapping[str, str]:
        return catalogue(self.language)
