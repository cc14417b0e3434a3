"""The portal's server-rendered pages, in-process: languages, explorer pages, search, wallet shells."""

from __future__ import annotations

import re

from civicledger.core.address import to_text
from civicledger.web.charts import bars
from civicledger.web.render import amount, seoul_time
from tests.gateway.conftest import b64, transfer


def committed_transfer(api, accounts) -> dict:
    response = api.post("/v1/transactions?wait=true", json={"envelope": b64(transfer(accounts, 1, 2, 5))})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_home_page_is_korean_by_default_and_switches_to_english(api):
    home = api.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert '<html lang="ko">' in home.text and "공개 탐색기" in home.text
    english = api.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Public explorer" in english.text
    assert english.cookies.get("lang") == "en"
    assert "Public explorer" in api.get("/").text, "the cookie remembers the choice"
    assert "공개 탐색기" in api.get("/?lang=ko").text
    assert "공개 탐색기" in api.get("/?lang=xx").text, "an unknown language keeps the remembered one"


def test_explorer_pages_show_a_committed_transfer(api, accounts):
    result = committed_transfer(api, accounts)
    tx_id, height = result["tx_id"], result["height"]
    assert tx_id[:10] in api.get("/?lang=en").text
    block = api.get(f"/blocks/{height}?lang=en")
    assert block.status_code == 200 and f"Block #{height}" in block.text and tx_id in block.text
    page = api.get(f"/tx/{tx_id}")
    assert page.status_code == 200 and '<span class="call">token.<wbr>transfer</span>' in page.text
    assert f'data-tx-id="{tx_id}"' in page.text, "the proof is checked in the browser from this id"
    account = to_text(accounts.address(2))
    shown = api.get(f"/address/{account}?lang=en")
    assert shown.status_code == 200 and "1,005" in shown.text and tx_id[:10] in shown.text


def test_search_goes_to_the_right_page(api, accounts):
    result = committed_transfer(api, accounts)
    block_hash = api.get(f"/v1/blocks/{result['height']}").json()["header"]["hash"]
    account = to_text(accounts.address(1))
    cases = {
        result["tx_id"]: f"/tx/{result['tx_id']}", result["tx_id"].upper(): f"/tx/{result['tx_id']}",
        block_hash: f"/blocks/{block_hash}", " 1 ": "/blocks/1", account: f"/address/{account}",
    }
    for query, target in cases.items():
        response = api.get("/search", params={"q": query}, follow_redirects=False)
        assert (response.status_code, response.headers.get("location")) == (303, target), query
    for query in ("nonsense", "ab" * 32, account[:-1] + ("q" if account[-1] != "q" else "p")):
        assert api.get("/search", params={"q": query}).status_code == 404, query


def test_unknown_things_get_a_page_that_says_so(api):
    for path in ("/blocks/999999", "/blocks/zz", "/tx/" + "00" * 32, "/tx/xyz", "/address/civ1nope"):
        response = api.get(path + "?lang=en")
        assert response.status_code == 404 and "Not found" in response.text, path


def test_transparency_and_wallet_pages_render(api):
    assert api.get("/transparency?lang=en").status_code == 200
    wallet = api.get("/wallet?lang=en")
    assert wallet.status_code == 200 and "/static/wallet-page.js" in wallet.text
    send = api.get("/wallet/send")
    assert send.status_code == 200 and 'value="CIV"' in send.text and 'for="recipient"' in send.text


def test_static_files_are_served_locally(api):
    for name in ("style.css", "civic.js", "wallet.js", "proof.js", "explorer.js"):
        assert api.get(f"/static/{name}").status_code == 200, name
    page = api.get("/").text
    assert 'src="http' not in page and 'href="http' not in page, "everything comes from this node: no CDN"


def test_pages_are_not_in_the_api_schema(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert all(p.startswith("/v1/") or p in ("/metrics",) for p in paths)


def test_formatting_helpers():
    assert amount(1234567) == "1,234,567" and amount(1234567, 2) == "12,345.67" and amount(-5, 1) == "-0.5"
    assert seoul_time(0) == "1970-01-01 09:00:00 KST"
    chart = bars([("<a>", 3), ("b", 0)], "t & t")
    assert "&lt;a&gt;" in chart and "t &amp; t" in chart and chart.count("<rect") == 2


def test_an_address_page_pages_back_through_a_long_history(api, accounts):
    from civicledger.web.pages import HISTORY_PAGE

    envelopes = [b64(transfer(accounts, 1, 2, 1)) for _ in range(HISTORY_PAGE + 3)]
    response = api.post("/v1/transactions/batch?wait=true", json={"envelopes": envelopes})
    assert response.status_code == 200, response.text
    account = to_text(accounts.address(1))
    first = api.get(f"/address/{account}?lang=en")
    assert first.text.count('href="/tx/') == HISTORY_PAGE
    assert 'id="history-newest"' not in first.text
    older = re.search(r'id="history-older" href="([^"]+)"', first.text)
    assert older, "a full page links to the older ones"
    second = api.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and 'id="history-newest"' in second.text
    shown = second.text.count('href="/tx/')
    assert 3 <= shown < HISTORY_PAGE, "the older page holds the rest (and the account's genesis funding)"
    assert 'id="history-older"' not in second.text
    assert api.get(f"/address/{account}?before=oops").status_code == 404


def test_a_pending_transaction_page_follows_the_commit(api, node, monkeypatch):
    tx_id = "ab" * 32
    assert api.get(f"/tx/{tx_id}").status_code == 404, "unknown, not pending"
    monkeypatch.setattr(node, "is_pending", lambda ident: ident == bytes.fromhex(tx_id))
    page = api.get(f"/tx/{tx_id}?lang=en")
    assert page.status_code == 200 and "waiting to be included" in page.text
    assert f'data-tx-id="{tx_id}"' in page.text and "/static/pending.js" in page.text


def test_flows_at_each_days_end_come_from_the_next_active_days_start():
    from civicledger.web.pages import end_of_day_flows

    entries = [{"day": 3, "budget": 10}, {"day": 6, "budget": 30}]
    ends = end_of_day_flows(entries, {"budget": 50}, range(1, 9))
    assert [e["budget"] for e in ends] == [10, 10, 30, 30, 30, 50, 50, 50]


def test_a_column_chart_says_every_value_in_words():
    from civicledger.web.charts import columns

    chart = columns(["11-20", "11-21"], [("보상", [5, 0]), ("수수료", [1, 2])], "도로 <일별>")
    assert chart.count('class="series-0"') == 3 and chart.count('class="series-1"') == 3, "legend + 2"
    assert "<desc>보상: 11-20 5, 11-21 0; 수수료: 11-20 1, 11-21 2</desc>" in chart
    assert "도로 &lt;일별&gt;" in chart
