"""The contract framework: argument checks, roles, nested calls, rollback, queries, events, keys."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicledger.contracts.framework import (
    MAX_CALL_DEPTH,
    MAX_EVENTS,
    Contract,
    EventSpec,
    Registry,
    contract_account,
    method,
    query,
)
from civicledger.contracts.governance import Governance
from civicledger.contracts.storage import Map, Value, decode_key, encode_key
from civicledger.contracts.testing import Sandbox
from civicledger.core.address import address_of, to_text
from civicledger.core.block import BlockEnv
from civicledger.core.crypto import KeyPair
from civicledger.core.encoding import encode
from civicledger.core.errors import NodeFault, Rejection, Unauthorized, UnknownCall
from civicledger.core.schema import Address, Count, Int, Memo
from civicledger.core.state import MemoryState, Overlay

ADMIN = address_of(KeyPair.from_seed(bytes([1]) * 32).public_key)
ALICE = address_of(KeyPair.from_seed(bytes([2]) * 32).public_key)
BOB = address_of(KeyPair.from_seed(bytes([3]) * 32).public_key)


class Ledger(Contract):
    """A second contract, called by Notes."""

    name = "ledger"

    entries = Map("entry")  # n -> who called
    Recorded = EventSpec("Recorded", ("n",))

    @method
    def record(self, n: Count) -> str:
        caller = self.ctx.caller or "transaction"
        self.entries[n] = [caller, self.ctx.sender]
        self.emit(self.Recorded, n=n)
        return caller

    @method
    def record_then_fail(self, n: Count) -> None:
        self.entries[n] = ["doomed", self.ctx.sender]
        self.emit(self.Recorded, n=n)
        raise Rejection("the ledger refuses", code="ledger_refuses")

    @query
    def entry(self, n: Count) -> Any:
        return self.entries.get(n)


class Notes(Contract):
    name = "notes"

    notes = Map("note")  # (owner, slot) -> text
    counter = Value("counter", 0)

    Noted = EventSpec("Noted", ("owner", "slot", "text"), topics=("owner",))

    @method(roles=("writer",))
    def write(self, slot: Count, text: Memo) -> int:
        """Write a note (writers only)."""
        self.notes[self.ctx.sender, slot] = text
        self.counter = self.counter + 1
        self.emit(self.Noted, owner=self.ctx.sender, slot=slot, text=text)
        return self.counter

    @method
    def call_and_catch(self, n: Count) -> str:
        self.counter = 100
        try:
            self.ctx.call("ledger", "record_then_fail", n=n)
        except Rejection as refusal:
            return refusal.code
        return "no refusal"

    @method
    def call_then_fail(self, n: Count) -> None:
        self.counter = 200
        self.ctx.call("ledger", "record", n=n)
        raise Rejection("changed my mind", code="changed_mind")

    @method
    def call_ledger(self, n: Count) -> str:
        return self.ctx.call("ledger", "record", n=n)

    @method
    def recurse(self, n: Annotated[int, Int(0, 100)]) -> int:
        self.counter = self.counter + 1
        return 0 if n == 0 else 1 + self.ctx.call("notes", "recurse", n=n - 1)

    @method
    def divide(self, n: Annotated[int, Int(-10, 10)]) -> int:
        self.counter = 300
        return 100 // n

    @method
    def exhaust(self, kind: Annotated[int, Int(0, 1)]) -> None:
        """Stand in for a host running out of memory (0) or of stack (1)."""
        self.counter = 500
        raise (MemoryError if kind == 0 else RecursionError)("host limit")

    @method
    def unencodable_result(self) -> Any:
        self.counter = 400
        return {1.5}

    @method
    def emit_wrong_fields(self) -> None:
        self.emit(self.Noted, owner=self.ctx.sender, slot=1)

    @method
    def flood(self, n: Annotated[int, Int(0, 1000)]) -> None:
        for i in range(n):
            self.emit(self.Noted, owner=None, slot=i, text="")

    @method
    def countersign(self, party: Address) -> None:
        self.ctx.require_signed_by(party, "counterparty")
        self.counter = 500

    @query
    def note(self, owner: Address, slot: Count = 0) -> str | None:
        return self.notes.get((owner, slot))

    @query
    def my_notes(self, owner: Address) -> list[Any]:
        return [[key[1], text] for key, text in self.notes.scan(owner)]

    @query
    def notes_after(self, owner: Address, slot: Count, limit: Count = 2) -> list[Any]:
        return [[key[1], text] for key, text in self.notes.scan(owner, after=(slot,), limit=limit)]

    @query
    def total(self) -> int:
        return self.counter

    @query
    def sneaky_write(self) -> None:
        self.counter = 5

    @query
    def sneaky_delete(self, owner: Address) -> None:
        del self.notes[owner, 0]

    @query
    def sneaky_call(self) -> None:
        self.ctx.call("ledger", "record", n=1)

    @query
    def sneaky_emit(self) -> None:
        self.emit(self.Noted, owner=None, slot=0, text="")

    @query
    def ask_ledger(self, n: Count) -> Any:
        return self.ctx.query("ledger", "entry", n=n)


GENESIS = {
    "governance": {
        "orgs": [
            {
                "id": "city",
                "name": "Seoul",
                "admins": [to_text(ADMIN)],
                "roles": {to_text(ALICE): ["writer"]},
            }
        ]
    }
}


@pytest.fixture
def box() -> Sandbox:
    return Sandbox([Governance, Notes, Ledger], GENESIS)


def snapshot(box: Sandbox) -> dict[bytes, bytes]:
    return dict(box.state.entries)


# -- declaration -----------------------------------------------------------------


def test_handlers_and_events_are_collected() -> None:
    assert "write" in Notes.methods and "write" not in Notes.queries
    assert "note" in Notes.queries and "note" not in Notes.methods
    assert Notes.methods["write"].roles == ("writer",)
    assert Notes.methods["write"].doc == "Write a note (writers only)."
    assert [p.name for p in Notes.methods["write"].params] == ["slot", "text"]
    slot = Notes.queries["note"].params[1]
    assert (slot.name, slot.required, slot.default) == ("slot", False, 0)
    assert Notes.events == {"Noted": Notes.Noted}
    assert Ledger.events == {"Recorded": Ledger.Recorded}


def test_a_handler_without_a_schema_is_refused_at_declaration() -> None:
    with pytest.raises(TypeError, match="Annotated"):

        class Broken(Contract):
            name = "broken"

            @method
            def go(self, n: int) -> None: ...


def test_a_contract_is_registered_once() -> None:
    with pytest.raises(ValueError, match="twice"):
        Registry([Notes, Notes])


def test_genesis_refuses_unknown_contracts_and_unexpected_config() -> None:
    with pytest.raises(UnknownCall):
        Sandbox([Governance, Notes], {"nope": {}})
    with pytest.raises(UnknownCall):
        Sandbox([Governance, Notes], {"notes": {"x": 1}})


# -- argument validation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "name", "args", "code"),
    [
        ("notes", "write", {"slot": 1, "text": 5}, "invalid_argument"),
        ("notes", "write", {"slot": True, "text": "x"}, "invalid_argument"),
        ("notes", "write", {"slot": -1, "text": "x"}, "invalid_argument"),
        ("notes", "write", {"slot": 1, "text": "x" * 141}, "invalid_argument"),
        ("notes", "write", {"slot": 1}, "invalid_argument"),
        ("notes", "write", {"slot": 1, "text": "x", "extra": 1}, "invalid_argument"),
        ("notes", "erase", {}, "unknown_method"),
        ("notes", "note", {"owner": ALICE}, "unknown_method"),  # a query is not a method
        ("notepad", "write", {"slot": 1, "text": "x"}, "unknown_contract"),
    ],
)
def test_calls_off_schema_are_refused(
    box: Sandbox, contract: str, name: str, args: dict[str, Any], code: str
) -> None:
    before = snapshot(box)
    receipt = box.call(ALICE, contract, name, **args)
    assert receipt.status == code
    assert receipt.message
    assert snapshot(box) == before
    with pytest.raises(UnknownCall) as caught:
        box.registry.check_call(contract, name, args)
    assert caught.value.code == code


def test_check_call_accepts_a_valid_call(box: Sandbox) -> None:
    box.registry.check_call("notes", "write", {"slot": 1, "text": "x"})


def test_query_arguments_are_checked(box: Sandbox) -> None:
    with pytest.raises(UnknownCall) as caught:
        box.query("notes", "note", owner=b"short")
    assert caught.value.code == "invalid_argument"
    with pytest.raises(UnknownCall) as caught:
        box.query("notes", "write", slot=1, text="x")  # a method is not a query
    assert caught.value.code == "unknown_method"


# -- roles and signers -----------------------------------------------------------


def test_a_method_with_roles_needs_one_of_them(box: Sandbox) -> None:
    receipt = box.call(BOB, "notes", "write", slot=1, text="hi")
    assert receipt.status == "missing_role"
    assert box.query("notes", "note", owner=BOB, slot=1) is None

    receipt = box.call(ALICE, "notes", "write", slot=1, text="hi")
    assert receipt.ok and receipt.result == 1
    assert box.query("notes", "note", owner=ALICE, slot=1) == "hi"


def test_a_granted_role_opens_the_method(box: Sandbox) -> None:
    assert box.call(ADMIN, "governance", "grant_role", org="city", account=BOB, role="writer").ok
    assert box.call(BOB, "notes", "write", slot=2, text="now I may").ok
    assert box.call(ADMIN, "governance", "revoke_role", org="city", account=BOB, role="writer").ok
    assert box.call(BOB, "notes", "write", slot=3, text="not any more").status == "missing_role"


def test_require_signed_by_checks_cosigners(box: Sandbox) -> None:
    assert box.call(ALICE, "notes", "countersign", party=BOB).status == "missing_signature"
    assert box.call(ALICE, "notes", "countersign", party=BOB, cosigners=[BOB]).ok
    assert box.call(ALICE, "notes", "countersign", party=ALICE).ok


# -- nested calls and rollback ---------------------------------------------------


def test_a_contract_calls_another_as_itself(box: Sandbox) -> None:
    receipt = box.call(ALICE, "notes", "call_ledger", n=7)
    assert receipt.ok and receipt.result == "notes"
    assert box.query("ledger", "entry", n=7) == ("notes", contract_account("notes"))
    assert box.call(ALICE, "ledger", "record", n=8).result == "transaction"
    assert box.query("ledger", "entry", n=8) == ("transaction", ALICE)
    assert [e.contract for e in receipt.events] == ["ledger"]


def test_a_caught_failing_call_rolls_back_only_the_callee(box: Sandbox) -> None:
    receipt = box.call(ALICE, "notes", "call_and_catch", n=3)
    assert receipt.ok and receipt.result == "ledger_refuses"
    assert box.query("notes", "total") == 100  # the caller's write stands
    assert box.query("ledger", "entry", n=3) is None  # the callee's write is gone
    assert receipt.events == ()  # and so is the event it announced before failing


def test_a_failing_transaction_rolls_back_every_contract(box: Sandbox) -> None:
    before = snapshot(box)
    receipt = box.call(ALICE, "notes", "call_then_fail", n=4)
    assert receipt.status == "changed_mind"
    assert receipt.events == ()
    assert snapshot(box) == before
    assert box.query("ledger", "entry", n=4) is None
    assert box.query("notes", "total") == 0


def test_apply_leaves_the_given_state_untouched_on_failure(box: Sandbox) -> None:
    """The node passes one overlay for the whole block: a failed tx must not write into it."""
    env = BlockEnv("sandbox", 1, box.time_ms, "test")
    for name, args in [
        ("call_then_fail", {"n": 1}),
        ("divide", {"n": 0}),
        ("unencodable_result", {}),
        ("recurse", {"n": MAX_CALL_DEPTH}),
    ]:
        overlay = Overlay(box.state)
        receipt = box.registry.apply(overlay, env, b"tx", (ALICE,), "notes", name, args)
        assert not receipt.ok, name
        assert overlay.writes == {}, name
    overlay = Overlay(box.state)
    receipt = box.registry.apply(overlay, env, b"tx", (ALICE,), "notes", "divide", {"n": 5})
    assert receipt.ok and receipt.result == 20
    assert overlay.writes != {}


def test_call_depth_is_bounded(box: Sandbox) -> None:
    deepest = MAX_CALL_DEPTH - 1  # the transaction's call is the first frame
    receipt = box.call(ALICE, "notes", "recurse", n=deepest)
    assert receipt.ok and receipt.result == deepest
    assert box.query("notes", "total") == MAX_CALL_DEPTH

    before = snapshot(box)
    receipt = box.call(ALICE, "notes", "recurse", n=deepest + 1)
    assert receipt.status == "call_depth"
    assert snapshot(box) == before


def test_a_contract_bug_is_a_failed_receipt_that_changes_nothing(box: Sandbox) -> None:
    before = snapshot(box)
    receipt = box.call(ALICE, "notes", "divide", n=0)
    assert receipt.status == "contract_error"
    assert "ZeroDivisionError" in receipt.message and "notes.divide" in receipt.message
    assert snapshot(box) == before
    assert box.call(ALICE, "notes", "emit_wrong_fields").status == "contract_error"
    assert snapshot(box) == before


@pytest.mark.parametrize("kind", [0, 1])
def test_a_host_limit_is_a_node_fault_never_a_receipt(box: Sandbox, kind: int) -> None:
    """Memory and stack depend on the host, so a receipt recording them could fork the chain."""
    before = snapshot(box)
    with pytest.raises(NodeFault) as fault:
        box.call(ALICE, "notes", "exhaust", kind=kind)
    assert fault.value.code == "host_fault"
    assert ("MemoryError" if kind == 0 else "RecursionError") in fault.value.message
    assert snapshot(box) == before and not box.receipts


def test_an_unencodable_result_fails_and_changes_nothing(box: Sandbox) -> None:
    before = snapshot(box)
    receipt = box.call(ALICE, "notes", "unencodable_result")
    assert receipt.status == "contract_error"  # the contract's bug, not the client's bytes
    assert snapshot(box) == before


def test_events_per_transaction_are_bounded(box: Sandbox) -> None:
    assert box.call(ALICE, "notes", "flood", n=MAX_EVENTS).ok
    assert box.call(ALICE, "notes", "flood", n=MAX_EVENTS + 1).status == "too_many_events"


# -- queries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("sneaky_write", {}),
        ("sneaky_delete", {"owner": ALICE}),
        ("sneaky_call", {}),
        ("sneaky_emit", {}),
    ],
)
def test_queries_cannot_change_anything(box: Sandbox, name: str, args: dict[str, Any]) -> None:
    assert box.call(ALICE, "notes", "write", slot=0, text="keep").ok
    before = snapshot(box)
    with pytest.raises(Unauthorized) as caught:
        box.query("notes", name, **args)
    assert caught.value.code == "read_only"
    assert snapshot(box) == before


def test_a_query_may_query_another_contract(box: Sandbox) -> None:
    assert box.call(ALICE, "ledger", "record", n=5).ok
    assert box.query("notes", "ask_ledger", n=5) == ("transaction", ALICE)


def test_map_scan_and_value_default(box: Sandbox) -> None:
    assert box.query("notes", "total") == 0
    for slot, text in [(3, "c"), (1, "a"), (2, "b")]:
        assert box.call(ALICE, "notes", "write", slot=slot, text=text).ok
    assert box.call(ADMIN, "governance", "grant_role", org="city", account=BOB, role="writer").ok
    assert box.call(BOB, "notes", "write", slot=1, text="bob's").ok
    assert box.query("notes", "my_notes", owner=ALICE) == [[1, "a"], [2, "b"], [3, "c"]]
    assert box.query("notes", "my_notes", owner=BOB) == [[1, "bob's"]]
    assert box.query("notes", "notes_after", owner=ALICE, slot=0) == [[1, "a"], [2, "b"]]
    assert box.query("notes", "notes_after", owner=ALICE, slot=1) == [[2, "b"], [3, "c"]]
    assert box.query("notes", "notes_after", owner=ALICE, slot=2**32 - 1) == []
    assert box.query("notes", "notes_after", owner=BOB, slot=1) == []
    assert box.query("notes", "total") == 4


def test_map_scan_pages_on_after_a_key(box: Sandbox) -> None:
    for slot in (1, 2, 3, 5):
        assert box.call(ALICE, "notes", "write", slot=slot, text=str(slot)).ok
    assert box.call(ADMIN, "governance", "grant_role", org="city", account=BOB, role="writer").ok
    assert box.call(BOB, "notes", "write", slot=0, text="bob's").ok
    assert box.query("notes", "notes_after", owner=ALICE, slot=0) == [[1, "1"], [2, "2"]]
    assert box.query("notes", "notes_after", owner=ALICE, slot=2) == [[3, "3"], [5, "5"]]
    assert box.query("notes", "notes_after", owner=ALICE, slot=4, limit=9) == [[5, "5"]]
    assert box.query("notes", "notes_after", owner=ALICE, slot=5) == []  # stays in the prefix


# -- events ----------------------------------------------------------------------


def test_events_carry_data_and_topics(box: Sandbox) -> None:
    receipt = box.call(ALICE, "notes", "write", slot=9, text="hello")
    (event,) = receipt.events
    assert (event.contract, event.name) == ("notes", "Noted")
    assert dict(event.data) == {"owner": ALICE, "slot": 9, "text": "hello"}
    assert event.topics == (ALICE,)
    receipt.encode()  # receipts with events encode canonically


def test_a_none_topic_is_left_out(box: Sandbox) -> None:
    receipt = box.call(ALICE, "notes", "flood", n=1)
    assert receipt.events[0].topics == ()


# -- storage keys ----------------------------------------------------------------

key_texts = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=6
)
key_parts = st.one_of(
    key_texts,
    st.integers(0, 2**64 - 1),
    st.binary(max_size=6),
)


@settings(max_examples=300)
@given(st.lists(key_parts, max_size=5).map(tuple))
def test_keys_round_trip(parts: tuple[Any, ...]) -> None:
    assert decode_key(encode_key(parts)) == parts


shapes = st.lists(st.sampled_from(["s", "i", "b"]), min_size=1, max_size=4)


def parts_of(shape: list[str], width: int) -> st.SearchStrategy[tuple[Any, ...]]:
    by_kind = {
        "s": key_texts,
        "i": st.integers(0, 2**64 - 1),
        "b": st.binary(min_size=width, max_size=width),
    }
    return st.tuples(*(by_kind[kind] for kind in shape))


@settings(max_examples=200)
@given(shapes, st.integers(0, 4), st.data())
def test_keys_sort_like_their_parts(shape: list[str], width: int, data: st.DataObject) -> None:
    """For keys of one shape (bytes of one width), byte order is the order of the parts."""
    a = data.draw(parts_of(shape, width), label="a")
    b = data.draw(parts_of(shape, width), label="b")
    ka, kb = encode_key(a), encode_key(b)
    assert (ka < kb) == (a < b)
    assert (ka == kb) == (a == b)


@settings(max_examples=200)
@given(st.lists(key_parts, min_size=1, max_size=3).map(tuple), st.data())
def test_a_key_prefix_is_a_byte_prefix(prefix: tuple[Any, ...], data: st.DataObject) -> None:
    rest = data.draw(st.lists(key_parts, max_size=2).map(tuple), label="rest")
    assert encode_key(prefix + rest).startswith(encode_key(prefix))


def test_shorter_text_sorts_first() -> None:
    assert encode_key(("a",)) < encode_key(("a\x01",)) < encode_key(("ab",))
    assert encode_key(("a", 5)) < encode_key(("ab", 0))


@pytest.mark.parametrize(
    ("part", "error"),
    [
        ("a\x00b", ValueError),
        ("\ud800", ValueError),  # a lone surrogate has no UTF-8 form
        (bytes(256), ValueError),
        (True, TypeError),
        (1.5, TypeError),
        (None, TypeError),
        (2**64, OverflowError),
        (-1, OverflowError),
    ],
    ids=repr,
)
def test_bad_key_parts_are_refused(part: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_key((part,))


def test_value_and_map_keys_live_in_the_contract_namespace(box: Sandbox) -> None:
    assert box.call(ALICE, "notes", "write", slot=1, text="x").ok
    prefixes = {decode_key(key)[:2] for key in box.state.entries}
    assert ("notes", "note") in prefixes and ("notes", "counter") in prefixes
    assert all(p[0] in {"governance", "notes", "ledger"} for p in prefixes)


def test_registry_read_uses_the_given_state() -> None:
    registry = Registry([Governance, Notes, Ledger])
    state = Overlay(MemoryState())
    env = BlockEnv("c", 0, 0, "p")
    registry.genesis(state, env, GENESIS)
    assert registry.read(state, env, "notes", "total", {}) == 0


class Tags(Contract):
    name = "tags"

    tags = Map("tag")  # (label, account) -> count; (text, bytes) keys are cached

    @method
    def tag(self, label: Memo, account: Address) -> None:
        self.tags[label, account] = self.tags.get((label, account), 0) + 1
        self.tags[label] = self.tags.get(label, 0) + 1

    @method
    def tag_lookalike(self, account: Address) -> None:
        class Label(str):
            pass

        self.tags.get((Label("a"), account))  # equal to a cached key, but not a key part


def test_cached_state_keys_are_the_encoded_keys_for_exact_part_types_only() -> None:
    box = Sandbox([Governance, Tags])
    assert box.call(ALICE, "tags", "tag", label="a", account=BOB).ok
    assert box.call(ALICE, "tags", "tag", label="a", account=BOB).ok
    spec = Tags.__dict__["tags"]
    assert set(spec.keys) >= {("a", BOB), "a"}
    for key, full in spec.keys.items():
        assert full == spec.base + encode_key(key if type(key) is tuple else (key,))
    assert box.state.get(spec.base + encode_key(("a", BOB))) == encode(2)
    assert box.call(ALICE, "tags", "tag_lookalike", account=BOB).status == "contract_error"
