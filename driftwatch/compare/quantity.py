"""Kubernetes resource quantities compared by value, as the API server does.

The server canonicalizes what it stores (``1000m`` -> ``"1"``, ``1024Mi`` ->
``"1Gi"``, ``0.1`` -> ``"100m"``), so the text in Git rarely equals the text
live; the amount does.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$"
)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Decimal | None:
    match = _QUANTITY.match(text.strip())
    if match is None:
        return None
    number, exponent, suffix = match.groups()
    try:
        value = Decimal(number + (exponent or ""))
    except InvalidOperation:
        return None
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    return value * _DECIMAL[suffix or ""]


def parse_quantity(value: object) -> Decimal | None:
    """The amount a quantity stands for, or None if it is not a quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        return _parse_text(value)
    return None


def quantities_equal(desired: object, live: object) -> bool:
    """Whether two quantities stand for the same amount (texts compared when unparseable)."""
    a, b = parse_quantity(desired), parse_quantity(live)
    if a is None or b is None:
        return desired == live
    return a == b
