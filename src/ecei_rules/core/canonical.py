"""Canonical JSON (RFC 8785, via the ``rfc8785`` package) and conversions to JSON values."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from typing import Any

import rfc8785

from ecei_rules.core.logic import UNKNOWN, Interval

#: Decimal values keep at most this many significant digits, so that the IEEE double of
#: RFC 8785 canonical JSON represents exactly the same decimal text.
MAX_SIGNIFICANT_DIGITS = 15

#: The longest JSON text the package reads with orjson (a longer one is read by the standard library).
#: orjson does not survive an allocation that fails: it ends the process with a segmentation fault (seen
#: with orjson 3.13 under a memory limit, on a line of 8 MB of empty lists), where the standard library
#: raises MemoryError, which the command line reports as such. Lines and records are 1 to 40 KB.
ORJSON_MAX_CHARS = 1 << 20


#: The decimal context of every operation on an assessment's decimals that could round, overflow or
#: trap under the caller's context (``decimal.getcontext()``, which is the calling thread's and may
#: have any precision, exponent range or traps): it never rounds (the most digits there are), never
#: overflows (the widest exponents) and raises nothing (no traps; its flags are never read), so what
#: is computed under it is exact and the same in every thread and for every caller.
EXACT_CONTEXT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


#: The default decimal context (28 digits, half even), fixed and with no trap: a fraction's decimal is
#: computed under it (`number_to_json`), so its JSON number is the one it always was, whatever
#: context the caller has set (under ``prec=2``, 5/8 would be 0.62, and a trapped Inexact would raise).
_DIVISION_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999, capitals=1, clamp=0,
                            traps=[])


def significant_digits(value: Decimal) -> int:
    """Count the significant digits of a finite decimal (``0.750`` has 2), exactly whatever the
    caller's decimal context: a 32-digit number has 32 (``normalize`` under the default context
    would round it to 28 first), and the count never raises (no trap of the caller's applies)."""
    return len(Decimal.normalize(value, EXACT_CONTEXT).as_tuple().digits)


#: The largest whole Decimal written as a JSON integer (beyond it, RFC 8785's doubles write it as a float does).
_WHOLE = 2**53 - 1


def number_to_json(value: Decimal | Fraction | int) -> int | float | str:
    """An exact number as a JSON number: integral values as ints (Decimals up to 2^53 - 1 in magnitude),
    others as floats.

    Decimals are limited to 15 significant digits on input, so the float's shortest
    representation is the same decimal text. A fraction with no finite decimal form
    (1/3) becomes the string ``"1/3"``.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return int(value)
        den = value.denominator
        while den % 2 == 0:
            den //= 2
        while den % 5 == 0:
            den //= 5
        if den != 1:
            return f"{value.numerator}/{value.denominator}"
        value = _DIVISION_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    if value == value.to_integral_value() and -_WHOLE <= value <= _WHOLE:
        return int(value)
    return float(value)  # beyond 2^53 - 1, a whole Decimal of 15 significant digits is that double exactly


def to_json(value: Any) -> Any:
    """Convert engine values (Decimal, date, tuples, UNKNOWN ...) to plain JSON values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("JSON has no NaN or infinity")
        return value
    if isinstance(value, (int, Decimal, Fraction)):
        return number_to_json(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if value is UNKNOWN:
        return None
    if isinstance(value, Interval):
        return {"at_least": to_json(value.lo), "at_most": to_json(value.hi)}
    raise TypeError(f"no JSON form for {type(value).__name__}")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a value (converted with :func:`to_json`)."""
    return canonical_json(to_json(value))


def compact_encoder(default: Callable[[Any], Any] | None = None) -> Callable[[Any], str]:
    """The standard library's JSON text with sorted keys, no spaces, raw non-ASCII characters and
    no NaN (raising TypeError or ValueError where it cannot), by its C encoder called directly:
    ``JSONEncoder.encode`` builds that encoder again on every call."""
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                               check_circular=False, default=default)
    fallback = encoder.encode
    make = getattr(json.encoder, "c_make_encoder", None)
    write = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or write is None:  # pragma: no cover - a Python without the C accelerator
        return fallback
    encode = make(None, encoder.default, write, None, ":", ",", True, False, False)

    def run(value: Any) -> str:
        if value.__class__ is not dict and value.__class__ is not list and value.__class__ is not tuple:
            return fallback(value)
        return "".join(encode(value, 0))

    return run


_ENCODE = compact_encoder()

#: Where the standard library's JSON text may differ from RFC 8785: a number in exponent form
#: (Python writes 1e-05, RFC 8785 0.00001), an integral float (2.0 against 2), an integer of 16
#: or more digits (RFC 8785 refuses those beyond 2**53), and characters beyond the Basic
#: Multilingual Plane (RFC 8785 sorts keys by UTF-16 code units, Python by code points).
#: Everything else (escapes, key order, shortest round-trip floats) is the same. In the compact
#: text of an object or array a number begins right after ``:``, ``,`` or ``[``, so only such a
#: run is searched: a hash (``"3e9f..."``) or a version in prose (``"before 3.0.0, so"``) inside a
#: string is not taken for a number (a string holding ``:2.0,`` still is: then ``rfc8785``
#: writes the same text, more slowly).
_UNSAFE_NUMBER = re.compile(r"[:,\[]-?[\d.]*(?:[eE]|\.0[,}\]]|\d{16})")


def unsafe(text: str) -> bool:
    """Whether the standard library's compact text of a JSON object or array may differ from
    RFC 8785 (a number with an exponent, an integral float or 16 digits in a row, or a character
    beyond the Basic Multilingual Plane). It may say so of a string that only looks like such a
    number; never the other way round."""
    return _UNSAFE_NUMBER.search(text) is not None or (not text.isascii() and max(text) > "\uffff")


#: Integral floats below this are written by RFC 8785 as the integer (2.0 is "2"): every integer
#: up to it is a double, so its digits are the shortest that read back as it
_EXACT = 2.0**53


def _whole(value: Any) -> Any:
    """``value`` with each integral float below 2**53 in magnitude as an int (what RFC 8785
    writes for it, see ``_EXACT``); the value itself when it holds none."""
    cls = value.__class__
    if cls is float:
        return int(value) if value.is_integer() and -_EXACT < value < _EXACT else value
    if cls is dict:
        members = {k: _whole(v) for k, v in value.items()}
        return value if all(members[k] is value[k] for k in value) else members
    if cls is list:
        items = [_whole(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of plain JSON values (dicts with string keys, lists, strings,
    numbers, booleans, None), byte for byte what ``rfc8785.dumps`` gives.

    The standard library's C encoder writes the text; when it holds anything where the two
    could differ (see :func:`unsafe`), it writes it again with integral floats as integers, and
    when that still may differ, or the value is not a JSON object or array, ``rfc8785`` writes it
    instead. The property suite checks the equality on generated values.
    """
    if value.__class__ is dict or value.__class__ is list:
        try:
            text = _ENCODE(value)
            if unsafe(text):
                whole = _whole(value)
                text = _ENCODE(whole) if whole is not value else text
        except (TypeError, ValueError, RecursionError):
            return rfc8785.dumps(value)
        if not unsafe(text):
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()
