"""Element-wise math functions for the _numpypy stand-in."""

import math

from _numpypy.multiarray import ndarray


def _apply(function, value):
    if isinstance(value, ndarray):
        return value._map(function)
    if isinstance(value, (list, tuple)):
        return ndarray([function(float(x)) for x in value])
    return function(float(value))


def _safe_exp(x):
    # numpy returns inf on overflow instead of raising.
    try:
        return math.exp(x)
    except OverflowError:
        return float("inf")


def exp(value):
    return _apply(_safe_exp, value)


def log(value):
    return _apply(math.log, value)


def sqrt(value):
    return _apply(math.sqrt, value)
