"""The translation catalogue: both languages say everything, and every key a page uses exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from civicledger.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, catalogue

WEB = Path(__file__).resolve().parents[2] / "src" / "civicledger" / "web"
USED = re.compile(r"""\bt\(\s*["']([a-z0-9_.]*[a-z0-9_])["']""")
"""A literal key in ``t("…")``, in a template, a script or the page code."""
STEP = re.compile(r"""\bstep\(\s*[^,]+,\s*["']([a-z0-9_.]+)["']""")
"""A key named by the proof checker's ``step(ok, "…")``."""


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def used_keys() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    scripts = [p for p in WEB.glob("static/**/*.js") if "vendor" not in p.parts]
    for path in [*WEB.glob("templates/**/*.html"), *scripts, *WEB.glob("*.py")]:
        text = path.read_text("utf-8")
        for key in USED.findall(text) + STEP.findall(text):
            found.setdefault(key, set()).add(path.name)
    return found


def test_korean_is_the_default_and_english_is_there():
    assert DEFAULT_LANGUAGE == "ko" and set(LANGUAGES) == {"ko", "en"}


def test_both_languages_have_the_same_keys():
    ko, en = set(catalogue("ko")), set(catalogue("en"))
    assert ko - en == set(), "keys only in Korean"
    assert en - ko == set(), "keys only in English"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_is_empty(language):
    assert [k for k, v in catalogue(language).items() if not v.strip()] == []


def test_both_languages_fill_the_same_fields():
    ko, en = catalogue("ko"), catalogue("en")
    assert {k: fields(ko[k]) for k in ko} == {k: fields(en[k]) for k in ko}


def test_every_key_the_pages_use_exists():
    keys = used_keys()
    assert len(keys) > 50, "the scan found too few keys: has the t() call changed shape?"
    missing = {key: sorted(files) for key, files in keys.items() if key not in catalogue("ko")}
    assert missing == {}


def test_keys_built_at_run_time_exist():
    """Keys made from a value (``"lang." ~ code``, ``status.${step}``, flows, district rows)."""
    from civicledger.web.pages import DISTRICT_BARS, SERVICE_BARS

    built = [f"lang.{code}" for code in LANGUAGES]
    built += [f"status.{step}" for step in ("signing", "submitting", "pending", "committed", "failed")]
    built += [f"flow.{k}" for k in SERVICE_BARS] + [f"district.{k}" for k in DISTRICT_BARS]
    built += [f"error.{code}" for code in ("address_length", "address_prefix", "address_checksum",
                                           "invalid_amount", "network", "timeout", "insufficient_funds",
                                           "invalid_number", "invalid_time", "invalid_hex",
                                           "missing_file", "unknown_kind", "upload_failed")]
    assert [k for k in built if k not in catalogue("ko")] == []


def test_a_key_lives_in_one_file_of_each_language(tmp_path, monkeypatch):
    from civicledger.web import i18n

    for language in LANGUAGES:
        files = sorted((i18n.CATALOGUE_DIR / language).glob("*.json"))
        assert files, f"no catalogue files for {language}"
    (tmp_path / "ko").mkdir()
    (tmp_path / "ko" / "a.json").write_text('{"x.one": "하나"}', "utf-8")
    (tmp_path / "ko" / "b.json").write_text('{"x.one": "일"}', "utf-8")
    monkeypatch.setattr(i18n, "CATALOGUE_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="x.one"):
            i18n.catalogue("ko")
    finally:
        monkeypatch.undo()
        i18n.catalogue.cache_clear()


def test_the_translator_fills_fields_and_shows_a_missing_key_as_itself():
    assert Translator("en")("block.title", height=7) == "Block #7"
    assert Translator("ko")("block.title", height=7) == "블록 #7"
    assert Translator("en")("no.such.key") == "no.such.key"
