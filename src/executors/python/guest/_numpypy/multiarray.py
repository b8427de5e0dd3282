"""ndarray and its constructors for the _numpypy stand-in."""

import operator
import struct


def _shape_of(data):
    if isinstance(data, list) and data and isinstance(data[0], list):
        width = len(data[0])
        if any(len(row) != width for row in data):
            raise ValueError("rows of a 2-D array must have the same length")
        return (len(data), width)
    return (len(data),)


def _to_float_rows(value):
    if isinstance(value, ndarray):
        return value.tolist()
    items = list(value)
    if items and isinstance(items[0], (list, tuple, ndarray)):
        return [[float(x) for x in row] for row in items]
    return [float(x) for x in items]


class ndarray(object):
    """A float array of one or two dimensions."""

    def __init__(self, data):
        self._data = data
        self.shape = _shape_of(data)
        self.ndim = len(self.shape)
        self.size = self.shape[0] * (self.shape[1] if self.ndim == 2 else 1)

    def tolist(self):
        if self.ndim == 2:
            return [list(row) for row in self._data]
        return list(self._data)

    def __len__(self):
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 2:
            return iter([ndarray(list(row)) for row in self._data])
        return iter(list(self._data))

    def __getitem__(self, index):
        if isinstance(index, tuple):
            rows, column = index
            selected = self._data[rows] if isinstance(rows, slice) else [self._data[rows]]
            if isinstance(column, slice):
                picked = [row[column] for row in selected]
                return ndarray(picked if isinstance(rows, slice) else picked[0])
            picked = [row[column] for row in selected]
            return ndarray(picked) if isinstance(rows, slice) else picked[0]
        value = self._data[index]
        if isinstance(value, list):
            if self.ndim == 2 and isinstance(index, int):
                return ndarray(list(value))
            return ndarray([list(row) if isinstance(row, list) else row for row in value])
        return value

    def __setitem__(self, index, value):
        if self.ndim == 1:
            self._data[index] = float(value)
        else:
            self._data[index] = [float(x) for x in value]

    @property
    def T(self):
        if self.ndim == 1:
            return ndarray(list(self._data))
        return ndarray([list(column) for column in zip(*self._data)])

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], tuple):
            shape = shape[0]
        flat = self._flat()
        if len(shape) == 1:
            return ndarray(flat)
        rows, columns = shape
        if rows == -1:
            rows = len(flat) // columns
        if columns == -1:
            columns = len(flat) // rows
        if rows * columns != len(flat):
            raise ValueError("cannot reshape an array of size %d" % len(flat))
        return ndarray([flat[i * columns : (i + 1) * columns] for i in range(rows)])

    def _flat(self):
        if self.ndim == 2:
            return [x for row in self._data for x in row]
        return list(self._data)

    def _reduce(self, function, axis):
        if axis is None:
            return function(self._flat())
        if self.ndim == 1:
            if axis != 0:
                raise ValueError("axis %d is out of bounds for a 1-D array" % axis)
            return function(self._data)
        if axis == 0:
            return ndarray([function(column) for column in zip(*self._data)])
        return ndarray([function(row) for row in self._data])

    def sum(self, axis=None):
        return self._reduce(lambda values: float(sum(values)), axis)

    def mean(self, axis=None):
        return self._reduce(lambda values: float(sum(values)) / len(values), axis)

    def min(self, axis=None):
        return self._reduce(lambda values: float(min(values)), axis)

    def max(self, axis=None):
        return self._reduce(lambda values: float(max(values)), axis)

    def dot(self, other):
        return dot(self, other)

    def copy(self):
        return ndarray(self.tolist())

    def astype(self, kind):
        return self._map(lambda x: float(kind(x)))

    def _map(self, function):
        if self.ndim == 2:
            return ndarray([[function(x) for x in row] for row in self._data])
        return ndarray([function(x) for x in self._data])

    def _binary(self, other, function):
        if not isinstance(other, ndarray):
            if isinstance(other, (list, tuple)):
                other = array(other)
            else:
                value = float(other)
                return self._map(lambda x: function(x, value))
        if self.ndim == other.ndim and self.shape == other.shape:
            if self.ndim == 1:
                return ndarray(list(map(function, self._data, other._data)))
            return ndarray(
                [list(map(function, a, b)) for a, b in zip(self._data, other._data)]
            )
        if self.ndim == 2 and other.ndim == 1 and other.shape[0] == self.shape[1]:
            row = other._data
            return ndarray([list(map(function, a, row)) for a in self._data])
        if self.ndim == 1 and other.ndim == 2 and self.shape[0] == other.shape[1]:
            row = self._data
            return ndarray([list(map(function, row, b)) for b in other._data])
        raise ValueError(
            "operands could not be broadcast together with shapes %s %s"
            % (self.shape, other.shape)
        )

    def __add__(self, other):
        return self._binary(other, operator.add)

    def __radd__(self, other):
        return self._binary(other, lambda a, b: b + a)

    def __sub__(self, other):
        return self._binary(other, operator.sub)

    def __rsub__(self, other):
        return self._binary(other, lambda a, b: b - a)

    def __mul__(self, other):
        return self._binary(other, operator.mul)

    def __rmul__(self, other):
        return self._binary(other, lambda a, b: b * a)

    def __truediv__(self, other):
        return self._binary(other, operator.truediv)

    __div__ = __truediv__

    def __rtruediv__(self, other):
        return self._binary(other, lambda a, b: b / a)

    __rdiv__ = __rtruediv__

    def __pow__(self, other):
        return self._binary(other, operator.pow)

    def __neg__(self):
        return self._map(operator.neg)

    def __abs__(self):
        return self._map(abs)

    def __gt__(self, other):
        return self._binary(other, lambda a, b: float(a > b))

    def __ge__(self, other):
        return self._binary(other, lambda a, b: float(a >= b))

    def __lt__(self, other):
        return self._binary(other, lambda a, b: float(a < b))

    def __le__(self, other):
        return self._binary(other, lambda a, b: float(a <= b))

    def __str__(self):
        if self.ndim == 2:
            return "[" + "\n ".join(_format_row(row) for row in self._data) + "]"
        return _format_row(self._data)

    def __repr__(self):
        return "array(%s)" % self.tolist()


def _format_row(values):
    return "[" + " ".join(repr(float(x)) for x in values) + "]"


def array(value, dtype=None):
    return ndarray(_to_float_rows(value))


def zeros(shape, dtype=None):
    if isinstance(shape, tuple) and len(shape) == 2:
        return ndarray([[0.0] * shape[1] for _ in range(shape[0])])
    size = shape[0] if isinstance(shape, tuple) else shape
    return ndarray([0.0] * size)


def ones(shape, dtype=None):
    return zeros(shape) + 1.0


def frombuffer(buffer, dtype=float):
    """Reads little-endian 64-bit floats; str data is taken as Python 2 byte strings."""
    if isinstance(buffer, str):
        buffer = buffer.encode("utf-8", "surrogateescape")
    data = bytes(buffer)
    if len(data) % 8 != 0:
        raise ValueError("buffer size must be a multiple of 8 bytes")
    return ndarray(list(struct.unpack("<%dd" % (len(data) // 8), data)))


def dot(a, b):
    if not isinstance(a, ndarray):
        a = array(a)
    if not isinstance(b, ndarray):
        b = array(b)
    if a.ndim == 1 and b.ndim == 1:
        return float(sum(map(operator.mul, a._data, b._data)))
    if a.ndim == 2 and b.ndim == 1:
        vector = b._data
        return ndarray([float(sum(map(operator.mul, row, vector))) for row in a._data])
    if a.ndim == 1 and b.ndim == 2:
        return ndarray(
            [float(sum(map(operator.mul, a._data, column))) for column in zip(*b._data)]
        )
    columns = list(zip(*b._data))
    return ndarray(
        [[float(sum(map(operator.mul, row, column))) for column in columns] for row in a._data]
    )
