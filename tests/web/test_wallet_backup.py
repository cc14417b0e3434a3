"""Key backup and import in the browser wallet: one key-file format with core/keyfile.py.

A wallet made in Chromium comes with a passphrase-sealed backup that Python opens; a key file
sealed in Python (or a demo operator's CLI key file) imports into the browser and signs there;
bad files and wrong passphrases are refused in plain words with the wallet left as it was;
replacing a wallet asks first; a wallet made before backups is told how to move to one. (The
vendored Argon2id and secretbox files are pinned in test_vendored.py.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nacl.pwhash import argon2id

from civicledger.cli.demo import DEMO_PASSPHRASE
from civicledger.cli.workspace import Workspace
from civicledger.core import keyfile
from civicledger.core.crypto import KeyPair
from civicledger.sdk import Client, Wallet
from civicledger.web.i18n import LANGUAGES, catalogue
from tests.web.conftest import PHONE, demo_wallet, screenshot, use_key

STATIC = Path(__file__).resolve().parents[2] / "src" / "civicledger" / "web" / "static"
PASSPHRASE = "봄날 한강 자전거 세 바퀴"
FAST = {"opslimit": argon2id.OPSLIMIT_INTERACTIVE, "memlimit": argon2id.MEMLIMIT_INTERACTIVE}


# -- without a browser ---------------------------------------------------------------------------


def test_every_key_file_error_has_a_text():
    """Refusals are shown as ``keyfile.error.<code>``; each code keyfile.js throws has its words."""
    source = (STATIC / "keyfile.js").read_text()
    declared = set(re.findall(r'"(\w+)"', source.split("export const ERROR_CODES", 1)[1]))
    thrown = set(re.findall(r'fail\("(\w+)"', source)) | {"no_memory"}
    assert thrown <= declared
    page_codes = {"short_passphrase", "passphrase_mismatch"}  # checked by wallet-page.js / wallet.js
    for language in LANGUAGES:
        texts = catalogue(language)
        missing = [c for c in declared | page_codes if f"keyfile.error.{c}" not in texts]
        assert missing == [], language
    assert "wallet.backup_later" not in catalogue("ko"), "the 'backups are coming' text is gone"


def test_the_browser_uses_keyfile_py_s_limits():
    source = (STATIC / "keyfile.js").read_text()
    assert f"OPSLIMIT_RANGE = [{keyfile.OPSLIMIT_RANGE[0]}, {keyfile.OPSLIMIT_RANGE[1]}]" in source
    assert keyfile.MEMLIMIT_RANGE == (8192, 1024**3) and "MEMLIMIT_RANGE = [8192, 1024 ** 3]" in source
    assert keyfile.DEFAULT_OPSLIMIT == 3 and keyfile.DEFAULT_MEMLIMIT == 256 * 1024**2
    assert "DEFAULT_LIMITS = MODERATE" in source
    assert "MODERATE = { opslimit: 3, memlimit: 256 * 1024 ** 2 }" in source
    assert keyfile.MAX_FILE_SIZE == 16 * 1024 and "MAX_FILE_SIZE = 16 * 1024" in source


# -- in Chromium ---------------------------------------------------------------------------------


def stored(page) -> dict | None:
    """The wallet kept in the page's IndexedDB: address, backup, whether its key is extractable."""
    return page.evaluate("""async () => {
        const w = await (await import("/static/wallet.js")).load();
        if (!w) return null;
        let exported = "refused";
        try { await crypto.subtle.exportKey("pkcs8", w.keys.privateKey); exported = "exported"; } catch {}
        return {address: w.address, backup: w.backup, extractable: w.keys.privateKey.extractable, exported};
    }""")


def kept(address: str, backup: str) -> dict:
    """What ``stored`` shows for a wallet whose private key is sealed in the browser."""
    return {"address": address, "backup": backup, "extractable": False, "exported": "refused"}


def import_file(page, data: bytes, passphrase: str, name: str = "key.json") -> str:
    """Import key file ``data`` through the page's form; the status text when it settles."""
    file = {"name": name, "mimeType": "application/json", "buffer": data}
    page.set_input_files("#import-file", files=[file])
    page.fill("#import-passphrase", passphrase)
    page.click("#import-button")
    page.wait_for_function("""() => {
        const s = document.getElementById('import-status').textContent;
        return s && !document.getElementById('import-button').disabled;
    }""", timeout=60_000)
    return page.locator("#import-status").inner_text()


def make_key(page, passphrase: str) -> None:
    page.fill("#new-passphrase", passphrase)
    page.fill("#new-passphrase-again", passphrase)
    page.click("#create-wallet")
    page.wait_for_selector("#backup-offer:not([hidden])", timeout=60_000)


def download_backup(page) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click("#backup-download")
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def fits_a_phone(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map((e) => `${e.tagName}#${e.id}: ${e.textContent.slice(0, 40)}`)""")


def test_a_wallet_made_in_the_browser_comes_with_a_backup_python_opens(page, server):
    page.set_viewport_size(PHONE)
    page.goto(server.url + "/wallet")
    page.wait_for_selector("#create-section:not([hidden])")
    assert page.locator("#create-heading").inner_text() == "새 지갑 만들기"
    assert "10자 이상" in page.locator("#new-passphrase-help").inner_text()
    screenshot(page, "wallet-create-phone")

    page.fill("#new-passphrase", "짧은 문구")
    page.fill("#new-passphrase-again", "짧은 문구")
    page.click("#create-wallet")
    assert "너무 짧습니다" in page.locator("#create-status").inner_text()
    page.fill("#new-passphrase", PASSPHRASE)
    page.fill("#new-passphrase-again", PASSPHRASE + "!")
    page.click("#create-wallet")
    assert "두 암호 문구가 다릅니다" in page.locator("#create-status").inner_text()
    assert stored(page) is None, "nothing is made until the passphrase is settled"

    make_key(page, PASSPHRASE)
    shown = page.locator("#wallet-address").inner_text()
    assert shown.startswith("civ1")
    assert "백업 파일을 지금 저장하세요" in page.locator("#backup-offer").inner_text()
    for words in ("따로 보관", "둘 다 있어야", "서버는 백업 파일도 암호 문구도"):
        assert words in page.locator("#backup-offer").inner_text()
    assert page.locator("#backup-created").is_visible() and not page.locator("#no-backup").is_visible()
    assert page.locator("#create-section").is_hidden()
    screenshot(page, "wallet-backup-phone")
    assert fits_a_phone(page) == []

    name, data = download_backup(page)
    assert name == f"civicledger-{shown[:12]}.json"
    opened = Wallet(keyfile.unseal(data, PASSPHRASE))
    assert opened.address_text == shown == keyfile.public_info(data).address
    doc = json.loads(data)
    limits = (doc["kdf"]["opslimit"], doc["kdf"]["memlimit"])
    assert limits == (keyfile.DEFAULT_OPSLIMIT, keyfile.DEFAULT_MEMLIMIT)
    with pytest.raises(keyfile.KeyFileError) as wrong:
        keyfile.unseal(data, PASSPHRASE + " ")
    assert wrong.value.code == "wrong_passphrase"
    assert stored(page) == kept(shown, "created")

    # The key Python opened is the key the browser signs with: a transfer signed in Python from
    # the backup and one signed in the page both commit from the same account.
    with Client(server.url) as client:
        minji = demo_wallet(server, "minji")
        assert client.call(minji, "token", "transfer", currency="CIV", to=shown, amount=20).ok
        assert client.call(opened, "token", "transfer", currency="CIV", to=minji.address_text, amount=5).ok
        assert client.balances(shown)["CIV"]["spendable"] == 15

    page.reload()
    page.wait_for_selector("#wallet-ready:not([hidden])")
    assert page.locator("#backup-created").is_visible(), "after a reload it still says it has a backup"
    assert page.locator("#backup-offer").is_hidden()


def test_a_key_file_sealed_in_python_imports_and_signs_in_the_browser(page, server):
    keypair = KeyPair.generate()
    data = keyfile.seal(keypair, "pw", label="민지의 집 컴퓨터", **FAST)
    address = keyfile.public_info(data).address
    with Client(server.url) as client:
        minji = demo_wallet(server, "minji")
        assert client.call(minji, "token", "transfer", currency="CIV", to=address, amount=50).ok

        page.goto(server.url + "/wallet")
        page.wait_for_selector("#import-section:not([hidden])")
        status = import_file(page, data, "pw")
        assert address in status and "가져왔습니다" in status
        assert page.locator("#wallet-address").inner_text() == address
        assert page.locator("#backup-imported").is_visible()
        assert stored(page) == kept(address, "imported")
        page.wait_for_function(
            "() => document.querySelector('#wallet-balances td[data-currency=CIV]')?.textContent === '50'")

        friend = Wallet.create()
        page.goto(server.url + "/wallet/send")
        page.wait_for_selector("#send-form:not([hidden])")
        page.fill("#recipient", friend.address_text)
        page.fill("#amount", "12")
        page.click("#send-button")
        page.wait_for_selector("#tx-status[data-state=committed]")
        assert client.balances(friend.address_text)["CIV"]["spendable"] == 12
        assert client.balances(address)["CIV"]["spendable"] == 38


def test_an_operator_s_cli_key_file_imports_into_the_browser(page, server):
    path = Workspace(server.data).key_path("nowon-admin")
    page.goto(server.url + "/wallet")
    page.wait_for_selector("#import-section:not([hidden])")
    status = import_file(page, path.read_bytes(), DEMO_PASSPHRASE, name=path.name)
    expected = Wallet.load(path, DEMO_PASSPHRASE).address_text
    assert expected in status
    assert stored(page)["address"] == expected


def edited(data: bytes, change) -> bytes:
    doc = json.loads(data)
    change(doc)
    return json.dumps(doc).encode()


def test_bad_key_files_and_wrong_passphrases_are_refused_and_change_nothing(page, server):
    right = "right passphrase"
    good = keyfile.seal(KeyPair.generate(), right, **FAST)
    other = keyfile.seal(KeyPair.generate(), "x", **FAST)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(server.url + "/wallet")
    page.wait_for_selector("#import-section:not([hidden])")
    assert import_file(page, good, "") == "암호 문구를 입력하세요."
    status = import_file(page, good, "wrong passphrase")
    assert "암호 문구가 틀렸습니다" in status and "바뀌지 않았습니다" in status
    assert stored(page) is None, "a wrong passphrase stores nothing"

    mine = use_key(page, server, demo_wallet(server, "minji"))
    page.goto(server.url + "/wallet")
    page.wait_for_selector("#wallet-ready:not([hidden])")

    def swap_public_details(doc):
        theirs = json.loads(other)
        doc["public_key"], doc["address"] = theirs["public_key"], theirs["address"]

    other_address = json.loads(other)["address"]
    cases = [
        (good, "wrong passphrase", "암호 문구가 틀렸습니다"),
        (edited(good, lambda d: d.update(address=other_address)), right, "주소가 그 공개 키와 맞지 않습니다"),
        (edited(good, swap_public_details), right, "잠긴 열쇠와 맞지 않습니다"),
        (b"name,amount\nminji,100\n", right, "시빅레저 열쇠 파일이 아닙니다"),
        (json.dumps({"hello": "world"}).encode(), right, "시빅레저 열쇠 파일이 아닙니다"),
        (edited(good, lambda d: d["kdf"].update(memlimit=4 * 1024**3)), right, "허용 범위를 벗어납니다"),
        (edited(good, lambda d: d["kdf"].update(opslimit=5)), right, "허용 범위를 벗어납니다"),
        (edited(good, lambda d: d.update(version=2)), right, "읽지 못하는 형식"),
        (edited(good, lambda d: d["cipher"].update(nonce="AAAA")), right, "손상되었습니다"),
        (b"{" + b" " * 20000 + b"}", right, "16 KiB"),
    ]
    for data, passphrase, words in cases:
        with pytest.raises(keyfile.KeyFileError):
            keyfile.unseal(data, passphrase)  # Python refuses the same files
        status = import_file(page, data, passphrase)
        assert words in status, (words, status)
        assert "바뀌지 않았습니다" in status
        assert stored(page)["address"] == mine, words
        assert page.locator("#wallet-address").inner_text() == mine
    assert dialogs == [], "a refused file never reaches the replace question"

    page.goto(server.url + "/wallet?lang=en")
    page.wait_for_selector("#import-section:not([hidden])")
    assert "Wrong passphrase" in import_file(page, good, "wrong passphrase")


def test_a_wallet_without_backup_is_guided_to_a_new_key_file_and_replacing_asks_first(page, server):
    page.set_viewport_size(PHONE)
    old = use_key(page, server, demo_wallet(server, "minji"))  # kept the way wallets were before backups
    page.goto(server.url + "/wallet")
    page.wait_for_selector("#wallet-ready:not([hidden])")
    guidance = page.locator("#no-backup")
    assert guidance.is_visible() and "백업이 없습니다" in guidance.inner_text()
    assert "꺼낼 수 없" in guidance.inner_text() and "새 주소로 보냅니다" in guidance.inner_text()
    assert page.locator("#create-heading").inner_text() == "백업이 있는 새 열쇠 파일 만들기"
    screenshot(page, "wallet-no-backup-phone")
    assert fits_a_phone(page) == []

    make_key(page, PASSPHRASE)
    name, data = download_backup(page)
    new = keyfile.public_info(data).address
    assert new != old and name == f"civicledger-{new[:12]}.json"
    assert new in page.locator("#backup-new-address").inner_text()
    assert Wallet(keyfile.unseal(data, PASSPHRASE)).address_text == new
    assert stored(page)["address"] == old, "making a key file leaves this wallet as it is"

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    status = import_file(page, data, PASSPHRASE)
    assert len(asked) == 1 and old in asked[0] and new in asked[0]
    assert "가져오지 않았습니다" in status
    assert stored(page)["address"] == old and page.locator("#wallet-address").inner_text() == old

    page.once("dialog", lambda dialog: dialog.accept())
    status = import_file(page, data, PASSPHRASE)
    assert new in status
    assert stored(page) == kept(new, "imported")
    assert page.locator("#wallet-address").inner_text() == new
    assert page.locator("#no-backup").is_hidden() and page.locator("#backup-imported").is_visible()

    same = import_file(page, data, PASSPHRASE)  # the same key again: nothing to confirm
    assert new in same and stored(page)["address"] == new
