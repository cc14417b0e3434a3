"""The portal on a 390-px phone, in Korean and English: charts, tables and the search box fit.

Chromium measures what a person would see: the chart's axis labels neither touch each other nor
leave the chart; a status, a column heading and a contract call never break inside a word (a
Korean word neither: the heading 상태 once stood one syllable per line); the search box's hint
shows whole; no page is wider than the phone. Screenshots of the main pages are kept.
"""

from __future__ import annotations

import pytest

from civicledger.web.i18n import catalogue
from tests.web.conftest import PHONE, profile, screenshot
from tests.web.portal_pages import portal_pages, with_language

LANGUAGES = ("ko", "en")

BREAKS = """([selector, column, allowAfter]) => {
  // Where the text of the cells wraps inside a word: cells are those matching ``selector``, or
  // with ``column`` the cells of every table column headed by that text. A wrap between two
  // characters is allowed after a space, or after a character in ``allowAfter``.
  let cells = selector ? [...document.querySelectorAll(selector)] : [];
  if (column) {
    cells = [];
    for (const table of document.querySelectorAll("table.list")) {
      const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
      const at = heads.indexOf(column);
      if (at >= 0) for (const row of table.tBodies[0].rows) cells.push(row.cells[at]);
    }
  }
  const broken = [];
  for (const cell of cells) {
    const chars = [];
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = [...range.getClientRects()].find((r) => r.width > 0);
        chars.push([node.data[i], rect ? Math.round(rect.top) : null]);
      }
    }
    for (let i = 1; i < chars.length; i++) {
      const [before, top] = chars[i - 1];
      const [now, nowTop] = chars[i];
      if (top === null || nowTop === null || /\\s/.test(before) || /\\s/.test(now)) continue;
      if (nowTop !== top && !allowAfter.includes(before)) broken.push(cell.textContent.trim());
    }
  }
  return {cells: cells.length, broken};
}"""

LINES = """(element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
}"""

CHART_LABELS = """() => [...document.querySelectorAll("svg.chart")].map((svg) => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")].map((t) => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, axis: t.classList.contains("axis"),
            left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
  return {title: svg.querySelector("title").textContent,
          box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom}, texts};
})"""

TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map((e) => `${e.tagName}#${e.id}.${e.className}: ${e.textContent.slice(0, 40)}`)"""


@pytest.fixture(scope="module")
def phone(browser):
    with profile(browser, PHONE) as page:
        yield page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chart_axis_labels_neither_touch_nor_leave_the_chart(phone, server, lang):
    phone.goto(server.url + f"/transparency?lang={lang}")
    phone.evaluate("document.fonts.ready")
    charts = phone.evaluate(CHART_LABELS)
    assert sum(1 for c in charts if any(t["axis"] for t in c["texts"])) >= 2, "the daily charts are there"
    for chart in charts:
        box = chart["box"]
        for text in chart["texts"]:
            assert box["left"] - 0.5 <= text["left"] and text["right"] <= box["right"] + 0.5, (
                f"{text['text']!r} leaves {chart['title']!r}")
        axis = sorted((t for t in chart["texts"] if t["axis"]), key=lambda t: t["left"])
        for before, after in zip(axis, axis[1:], strict=False):
            assert before["right"] < after["left"], f"{before['text']!r} touches {after['text']!r}"
        if axis:
            assert "/" in axis[0]["text"], "the first day names its month"
    screenshot(phone, f"transparency-phone-{lang}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tables_break_between_words_and_a_status_stays_on_one_line(phone, server, lang):
    pages = {p.name: p for p in portal_pages(server)}
    status, call = catalogue(lang)["tx.status"], catalogue(lang)["tx.call"]
    for name in ("explorer", "block", "address"):
        phone.goto(server.url + with_language(pages[name].path, lang))
        phone.evaluate("document.fonts.ready")
        headings = phone.evaluate(BREAKS, ["table.list th", None, ""])
        assert headings["cells"] > 0 and headings["broken"] == [], (name, lang, headings)
        statuses = phone.evaluate(BREAKS, ["", status, ""])
        assert statuses["cells"] > 0 and statuses["broken"] == [], (name, lang, statuses)
        cells = phone.locator("table.list td.status")
        assert cells.count() == statuses["cells"], "the status column's cells are marked"
        for i in range(cells.count()):
            assert cells.nth(i).evaluate(LINES) == 1, (name, lang, cells.nth(i).inner_text())
        if name != "address":  # the address page lists events, not calls
            calls = phone.evaluate(BREAKS, ["", call, "."])
            assert calls["cells"] > 0 and calls["broken"] == [], (name, lang, calls)
        screenshot(phone, f"{name}-phone-{lang}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_search_hint_shows_whole(phone, server, lang):
    phone.goto(server.url + f"/?lang={lang}")
    phone.evaluate("document.fonts.ready")
    room, needed = phone.locator("#q").evaluate("""(input) => {
        const style = getComputedStyle(input);
        const context = document.createElement("canvas").getContext("2d");
        context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        return [input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
                context.measureText(input.placeholder).width];
    }""")
    assert needed <= room, f"the hint needs {needed:.0f} px of {room:.0f}"


def test_no_page_is_wider_than_a_phone(phone, server):
    for page in portal_pages(server):
        for lang in LANGUAGES:
            phone.goto(server.url + with_language(page.path, lang))
            assert phone.evaluate(TOO_WIDE) == [], f"{page.name} ({lang}) is wider than a phone"
