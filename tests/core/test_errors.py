"""The error tree drawn in core/errors.py is the tree the code defines."""

from __future__ import annotations

import inspect
import re

import pytest

from civicledger.core import errors
from civicledger.core.errors import CivicError

_NODE = re.compile(r"^ {4}(?P<indent>[│ ]*)(?:[├└]── )?(?P<name>[A-Z]\w*)\s")


def drawn_tree(doc: str) -> dict[str, str | None]:
    """Each class named in the docstring's tree, mapped to its drawn parent."""
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for line in doc.splitlines():
        match = _NODE.match(line)
        if match is None:
            continue
        depth = len(match["indent"]) // 4 + (1 if "──" in line else 0)
        del stack[depth:]
        parents[match["name"]] = stack[-1] if stack else None
        stack.append(match["name"])
    return parents


def test_the_drawn_tree_matches_the_classes() -> None:
    drawn = drawn_tree(errors.__doc__ or "")
    defined = {
        name: (cls.__base__.__name__ if cls is not CivicError else None)
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, CivicError) and cls.__module__ == errors.__name__
    }
    assert drawn == defined


def test_the_parser_reads_nesting() -> None:
    doc = "    A   root\n    ├── B   one\n    │   └── C   two\n    └── D   three\n"
    assert drawn_tree(doc) == {"A": None, "B": "A", "C": "B", "D": "A"}


def test_codes_are_snake_case_and_messages_required() -> None:
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, CivicError):
            assert re.fullmatch(r"[a-z]+(_[a-z]+)*", cls.code), cls
    with pytest.raises(ValueError):
        CivicError("")
    error = errors.Conflict("it exists", code="exists_already")
    assert (error.code, error.message) == ("exists_already", "it exists")
    assert str(error) == "exists_already: it exists"


def test_an_invalid_block_says_where_and_what() -> None:
    assert drawn_tree(errors.__doc__ or "")["InvalidBlock"] == "CivicError"
    error = errors.InvalidBlock("block 7: state_root differs", height=7, field="state_root")
    assert (error.code, error.height, error.field) == ("invalid_block", 7, "state_root")
    assert not isinstance(error, (errors.Rejection, errors.NodeFault))
