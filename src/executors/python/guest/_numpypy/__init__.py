"""A small pure-Python stand-in for PyPy's _numpypy (micronumpy), with the parts that
Teaclave's MesaPy payloads use: float arrays of one or two dimensions, element-wise
arithmetic with broadcasting of scalars and rows, dot, transpose, min/max/sum/mean along an
axis, and exp/log. Values are Python floats in nested lists, so it suits small data only."""

from _numpypy.multiarray import array, ndarray, zeros, ones, frombuffer, dot
from _numpypy.umath import exp, log, sqrt
