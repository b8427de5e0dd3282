"""Runs one Teaclave Python function inside a fresh Pyodide interpreter.

The host calls run_task() once per interpreter process. The user's source is checked,
rewritten so that str.format reaches only allowed attributes, and executed in fresh globals
with a reduced set of builtins. It can import only the modules listed in ALLOWED_MODULES,
each as a view created for this task. While the function runs, an audit hook rejects the
construction of functions and code objects. These checks give clear errors. If they are
bypassed, the process around the interpreter still confines the function: it has no code
generation from strings, Node's permission model and no host globals, and it is killed after
the task.
"""

import _string
import ast
import builtins
import collections
import gc
import marshal
import sys
import types

MAX_SUMMARY_BYTES = 20480
# Bounds on the print output kept for the task's log.
MAX_LOG_LINES = 1000
MAX_LOG_BYTES = 65536
BUFFER_TOO_SHORT = "MESAPY_ERROR_BUFFER_TOO_SHORT"
EXEC_ERROR = "MESAPY_EXEC_ERROR"
NOT_SUPPORTED = "Teaclave Not Supported"
FFI_ERROR = "fileio_init: teaclave_ffi_error"

# Modules a function may import. Each import gives a view with the module's public
# attributes except submodules, so no module object (and through it sys) is reachable.
ALLOWED_MODULES = frozenset(
    [
        "__future__",
        "_numpypy",
        "_numpypy.multiarray",
        "_numpypy.umath",
        "array",
        "base64",
        "binascii",
        "bisect",
        "cmath",
        "collections",
        "copy",
        "datetime",
        "decimal",
        "fractions",
        "functools",
        "hashlib",
        "heapq",
        "itertools",
        "json",
        "marshal",
        "math",
        "random",
        "re",
        "statistics",
        "struct",
        "teaclave",
        "textwrap",
        "unicodedata",
        "zlib",
    ]
)

# Dunder attributes a function may use; all others (__class__, __globals__, __subclasses__,
# __dict__, __code__ and the rest) lead from any object to the interpreter's internals.
ALLOWED_DUNDERS = frozenset(
    """__init__ __name__ __doc__ __len__ __str__ __repr__ __eq__ __ne__ __lt__ __le__
    __gt__ __ge__ __hash__ __iter__ __next__ __enter__ __exit__ __getitem__ __setitem__
    __delitem__ __contains__ __add__ __sub__ __mul__ __truediv__ __floordiv__ __mod__
    __pow__ __neg__ __abs__ __bool__ __call__""".split()
)

# Non-dunder attributes that reach frames, code objects or globals.
DENIED_ATTRIBUTES = frozenset(
    """gi_frame gi_code gi_yieldfrom cr_frame cr_code cr_await cr_origin ag_frame ag_code
    ag_await f_back f_globals f_locals f_builtins f_code f_trace tb_frame tb_next co_code
    co_consts func_globals func_code func_closure im_func im_self mro""".split()
)

DENIED_NAMES = frozenset(
    ["__builtins__", "__import__", "__loader__", "__spec__", "__build_class__"]
)

# Prefix of the names that the rewritten source uses; function sources must not use them.
RESERVED_PREFIX = "__cloister"
# Builtin through which the rewritten source reads the attributes in FORMAT_METHODS.
ATTRIBUTE_HELPER = "__cloister_attribute__"
# str methods whose format strings can read attributes: "{0.__globals__}".format(f).
FORMAT_METHODS = frozenset(["format", "format_map"])

# Deepest nesting of containers that safe_marshal_loads accepts.
MAX_MARSHAL_DEPTH = 100
# Types that marshal data may contain; code objects and anything unknown are rejected.
MARSHAL_LEAF_TYPES = (
    type(None),
    type(Ellipsis),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
)
MARSHAL_CONTAINER_TYPES = (tuple, list, set, frozenset, dict, slice)

# Audit events that a function must not cause, with what they do. Constructing a function
# from a code object would run code that skipped the source check, and object.__getattr__
# is raised for restricted attributes such as __code__ and the frame attributes.
DENIED_AUDIT_EVENTS = {
    "function.__new__": "constructing functions",
    "code.__new__": "constructing code objects",
    "object.__getattr__": "reading restricted attributes",
}

REMOVED_BUILTINS = frozenset(
    """eval exec compile open input breakpoint help globals locals vars __import__
    getattr setattr delattr hasattr exit quit copyright credits license memoryview
    __loader__ __spec__ __build_class__ __debug__""".split()
)


class PolicyViolation(Exception):
    """Raised when a function uses something the sandbox does not offer."""


def attribute_allowed(name):
    if name in DENIED_ATTRIBUTES:
        return False
    if name.startswith("__") and name.endswith("__"):
        return name in ALLOWED_DUNDERS
    return True


class SourceChecker(ast.NodeVisitor):
    """Rejects attribute and name uses that lead out of the sandbox."""

    def visit(self, node):
        # Identifiers appear in many node types (arguments, imports, match captures), so
        # every string field is checked for the names that the rewritten source uses.
        if not isinstance(node, ast.Constant):
            for _, value in ast.iter_fields(node):
                for name in value if isinstance(value, list) else [value]:
                    if isinstance(name, str) and name.startswith(RESERVED_PREFIX):
                        raise PolicyViolation(
                            'line %d: name "%s" is not available in Python functions'
                            % (getattr(node, "lineno", 0), name)
                        )
        return super().visit(node)

    def visit_Attribute(self, node):
        if not attribute_allowed(node.attr):
            raise PolicyViolation(
                'line %d: attribute "%s" is not available in Python functions'
                % (node.lineno, node.attr)
            )
        self.generic_visit(node)

    def visit_MatchClass(self, node):
        # Keyword patterns read attributes by name: `case object(__class__=c)`. The format
        # methods are rejected too, because a pattern would bypass their rewriting.
        for name in node.kwd_attrs:
            if not attribute_allowed(name) or name in FORMAT_METHODS:
                raise PolicyViolation(
                    'line %d: attribute "%s" is not available in Python functions'
                    % (node.lineno, name)
                )
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        # `from json import __dict__` reads the attribute like `json.__dict__` would.
        for alias in node.names:
            if alias.name != "*" and not attribute_allowed(alias.name):
                raise PolicyViolation(
                    'line %d: name "%s" cannot be imported in Python functions'
                    % (node.lineno, alias.name)
                )
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in DENIED_NAMES:
            raise PolicyViolation(
                'line %d: name "%s" is not available in Python functions'
                % (node.lineno, node.id)
            )
        self.generic_visit(node)


class FormatRewriter(ast.NodeTransformer):
    """Rewrites each read of `x.format` or `x.format_map` into a call of the attribute
    helper, which returns a version that checks the format string's fields."""

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr not in FORMAT_METHODS or not isinstance(node.ctx, ast.Load):
            return node
        helper = ast.Name(id=ATTRIBUTE_HELPER, ctx=ast.Load())
        call = ast.Call(func=helper, args=[node.value, ast.Constant(node.attr)], keywords=[])
        return ast.copy_location(call, node)


def check_format_string(state, template):
    """Raise PolicyViolation when a field of the format string reads an attribute that
    the source check would reject. Nested fields in format specs are checked too."""
    for _, field, spec, _ in _string.formatter_parser(template):
        if field is None:
            continue
        _, rest = _string.formatter_field_name_split(field)
        for is_attribute, key in rest:
            if is_attribute and not attribute_allowed(key):
                raise state.deny(
                    'attribute "%s" is not available in Python functions, including in '
                    "format strings" % key
                )
        if spec:
            check_format_string(state, spec)


def make_attribute_helper(state):
    """Create the helper that reads `format` and `format_map`. For str and UserString
    it returns a function that checks the format string before formatting."""

    def checked_format(method, template, args, kwargs):
        if not isinstance(template, str):
            raise TypeError("the format string must be a str, not %s" % type(template).__name__)
        check_format_string(state, template)
        if method == "format":
            return str.format(template, *args, **kwargs)
        return str.format_map(template, *args, **kwargs)

    def bind(method, template):
        def format_method(*args, **kwargs):
            return checked_format(method, template, args, kwargs)

        return format_method

    def unbound(method, read_template):
        def format_function(owner, *args, **kwargs):
            return checked_format(method, read_template(owner), args, kwargs)

        return format_function

    def read_attribute(obj, name):
        value = getattr(obj, name)
        if name not in FORMAT_METHODS:
            return value
        if value is str.format or value is str.format_map:
            return unbound(name, lambda owner: owner)
        user_string = collections.UserString
        if value is user_string.format or value is user_string.format_map:
            return unbound(name, lambda owner: owner.data)
        if isinstance(value, types.BuiltinMethodType) and isinstance(value.__self__, str):
            return bind(name, value.__self__)
        if isinstance(value, types.MethodType) and value.__func__ in (
            user_string.format,
            user_string.format_map,
        ):
            return bind(name, value.__self__.data)
        return value

    return read_attribute


class TaskState:
    """The files of one task and the record of its denied operations."""

    def __init__(self, inputs, output_names, output_limit):
        self.inputs = inputs
        self.output_names = frozenset(output_names)
        self.output_limit = output_limit
        self.outputs = []
        self.created = set()
        self.limit_exceeded = None
        self.violation = None
        self.printed = []
        self.printed_bytes = 0

    def record_print(self, text):
        if len(self.printed) >= MAX_LOG_LINES or self.printed_bytes >= MAX_LOG_BYTES:
            return
        self.printed_bytes += len(text)
        self.printed.append(text)

    def log_lines(self):
        lines = "".join(self.printed).splitlines()
        return lines[:MAX_LOG_LINES]

    def deny(self, message):
        if self.violation is None:
            self.violation = message
        return PolicyViolation(message)


def surrogate_text(data):
    return data.decode("utf-8", "surrogateescape")


def surrogate_bytes(data):
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    return bytes(data)


class TeaclaveFile:
    """A granted input or output, like MesaPy's file objects. Reads return str, as in
    Python 2; bytes that are not UTF-8 survive a round trip through surrogate escapes.
    The object holds no reference to the task's state, so a function cannot reach it."""

    def __init__(self, mode, data=None, chunks=None, slot=None, limit=0, on_limit=None):
        self._mode = mode
        self._closed = False
        self._data = data
        self._position = 0
        self._chunks = chunks
        self._slot = slot
        self._limit = limit
        self._written = 0
        self._on_limit = on_limit

    def _check(self, mode):
        if self._closed:
            raise ValueError("I/O operation on closed file")
        if self._mode != mode:
            raise IOError(
                "File not open for %s" % ("reading" if mode == "rb" else "writing")
            )

    def read(self, size=-1):
        self._check("rb")
        end = len(self._data) if size is None or size < 0 else self._position + size
        chunk = self._data[self._position : end]
        self._position += len(chunk)
        return surrogate_text(chunk)

    def readline(self, size=-1):
        self._check("rb")
        newline = self._data.find(b"\n", self._position)
        end = len(self._data) if newline == -1 else newline + 1
        if size is not None and size >= 0:
            end = min(end, self._position + size)
        chunk = self._data[self._position : end]
        self._position = end
        return surrogate_text(chunk)

    def readlines(self):
        lines = []
        line = self.readline()
        while line:
            lines.append(line)
            line = self.readline()
        return lines

    def __iter__(self):
        return iter(self.readlines())

    def write(self, data):
        self._check("wb")
        chunk = surrogate_bytes(data)
        if self._written + len(chunk) > self._limit:
            self._on_limit(self._slot)
            raise IOError(
                'output "%s" exceeds its limit of %d bytes' % (self._slot, self._limit)
            )
        self._written += len(chunk)
        self._chunks.append(chunk)
        return len(chunk)

    def flush(self):
        pass

    def close(self):
        self._closed = True

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def teaclave_error(text):
    """Create a RuntimeError that also has Python 2's `message` attribute, which MesaPy
    payloads read (`except RuntimeError as e: e.message`)."""
    error = RuntimeError(text)
    error.message = text
    return error


def make_open(state):
    def on_limit(slot):
        if state.limit_exceeded is None:
            state.limit_exceeded = slot

    def teaclave_open(slot, mode="rb"):
        if mode not in ("rb", "wb"):
            raise teaclave_error(NOT_SUPPORTED)
        if mode == "rb":
            if slot not in state.inputs:
                raise teaclave_error(FFI_ERROR)
            return TeaclaveFile("rb", data=state.inputs[slot])
        if slot not in state.output_names or slot in state.created:
            raise teaclave_error(FFI_ERROR)
        state.created.add(slot)
        chunks = []
        state.outputs.append((slot, chunks))
        return TeaclaveFile(
            "wb", chunks=chunks, slot=slot, limit=state.output_limit, on_limit=on_limit
        )

    return teaclave_open


def check_marshal_value(value):
    """Raise ValueError unless `value` contains only plain data: code objects could be
    turned into functions that skip the source check. The walk fails closed, so data nested
    deeper than MAX_MARSHAL_DEPTH and types it does not know are rejected too."""
    seen = set()
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, types.CodeType):
            raise ValueError("marshal data with code objects is not supported")
        if type(item) in MARSHAL_LEAF_TYPES or item is StopIteration:
            continue
        if type(item) not in MARSHAL_CONTAINER_TYPES:
            raise ValueError(
                "marshal data with %s objects is not supported" % type(item).__name__
            )
        if depth >= MAX_MARSHAL_DEPTH:
            raise ValueError(
                "marshal data nested deeper than %d levels is not supported"
                % MAX_MARSHAL_DEPTH
            )
        # marshal data can refer to one object many times, and a list can contain itself.
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            children = [child for pair in item.items() for child in pair]
        elif isinstance(item, slice):
            children = [item.start, item.stop, item.step]
        else:
            children = list(item)
        pending.extend((child, depth + 1) for child in children)


def safe_marshal_loads(data):
    """marshal.loads that accepts Python 2-style str data and rejects code objects."""
    value = marshal.loads(surrogate_bytes(data))
    check_marshal_value(value)
    return value


def safe_marshal_load(file):
    """marshal.load that rejects code objects like safe_marshal_loads. The real one reads
    through the file's readinto(), which a function can implement to load any object.
    NOTE: this one reads the rest of the file with read(), so the file position ends after
    all of its data and not after the first object, as it would with marshal.load."""
    return safe_marshal_loads(file.read())


# The state of the running function, read by the audit hook; None between functions.
active_state = None


def audit_task_event(event, args):
    state = active_state
    if state is None or event not in DENIED_AUDIT_EVENTS:
        return
    raise state.deny(
        "%s is not available in Python functions (audit event %s)"
        % (DENIED_AUDIT_EVENTS[event], event)
    )


# NOTE: an audit hook cannot be removed, so it stays for the life of the interpreter. It
# denies nothing while no function runs.
sys.addaudithook(audit_task_event)


def module_view(name, module, extra=None):
    view = types.ModuleType(name)
    for key in dir(module):
        if key.startswith("_"):
            continue
        value = getattr(module, key)
        if isinstance(value, types.ModuleType):
            continue
        setattr(view, key, value)
    if extra:
        for key, value in extra.items():
            setattr(view, key, value)
    return view


class Importer:
    """The __import__ of one task: allowed modules come back as fresh views."""

    def __init__(self, state, teaclave_open):
        self.state = state
        self.teaclave_open = teaclave_open
        self.views = {}

    def view(self, name):
        if name in self.views:
            return self.views[name]
        if name == "teaclave":
            view = types.ModuleType("teaclave")
            view.open = self.teaclave_open
            view.teaclave_open = self.teaclave_open
        else:
            __import__(name)
            module = sys.modules[name]
            extra = None
            if name == "marshal":
                extra = {"loads": safe_marshal_loads, "load": safe_marshal_load}
            elif name == "_numpypy":
                extra = {
                    "multiarray": self.view("_numpypy.multiarray"),
                    "umath": self.view("_numpypy.umath"),
                }
            view = module_view(name, module, extra)
        self.views[name] = view
        return view

    def __call__(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0:
            raise self.state.deny("relative imports are not available in Python functions")
        if name not in ALLOWED_MODULES:
            raise self.state.deny(
                'module "%s" is not available in Python functions; the available modules '
                "are %s" % (name, ", ".join(sorted(ALLOWED_MODULES)))
            )
        if fromlist or "." not in name:
            return self.view(name)
        return self.view(name.split(".")[0])


def make_print(state):
    """Create the task's print, which writes to a file object when given one and otherwise
    keeps the text for the task's log."""

    def task_print(*values, sep=" ", end="\n", file=None, flush=False):
        text = (" " if sep is None else sep).join(str(value) for value in values)
        text += "\n" if end is None else end
        if file is not None:
            file.write(text)
        else:
            state.record_print(text)

    return task_print


def make_builtins(state, teaclave_open):
    importer = Importer(state, teaclave_open)

    def checked_name(name):
        if not isinstance(name, str):
            raise TypeError("attribute name must be a string")
        if not attribute_allowed(name):
            raise state.deny('attribute "%s" is not available in Python functions' % name)
        return name

    read_attribute = make_attribute_helper(state)

    def safe_getattr(obj, name, *default):
        checked_name(name)
        if name not in FORMAT_METHODS:
            return getattr(obj, name, *default)
        try:
            return read_attribute(obj, name)
        except AttributeError:
            if default:
                return default[0]
            raise

    def safe_hasattr(obj, name):
        return hasattr(obj, checked_name(name))

    def safe_setattr(obj, name, value):
        setattr(obj, checked_name(name), value)

    def safe_delattr(obj, name):
        delattr(obj, checked_name(name))

    def removed(name):
        def unavailable(*args, **kwargs):
            raise state.deny('builtin "%s" is not available in Python functions' % name)

        return unavailable

    def open_unavailable(*args, **kwargs):
        raise state.deny(
            'builtin "open" is not available in Python functions; use teaclave_open(slot, '
            'mode) or "from teaclave import open"'
        )

    table = {
        key: value for key, value in vars(builtins).items() if key not in REMOVED_BUILTINS
    }
    table.update(
        {
            "__import__": importer,
            ATTRIBUTE_HELPER: read_attribute,
            "__build_class__": builtins.__build_class__,
            "getattr": safe_getattr,
            "hasattr": safe_hasattr,
            "setattr": safe_setattr,
            "delattr": safe_delattr,
            "eval": removed("eval"),
            "exec": removed("exec"),
            "compile": removed("compile"),
            "globals": removed("globals"),
            "locals": removed("locals"),
            "vars": removed("vars"),
            "open": open_unavailable,
            "input": removed("input"),
            "breakpoint": removed("breakpoint"),
            "teaclave_open": teaclave_open,
            "print": make_print(state),
            # Python 2 names that MesaPy payloads use.
            "xrange": range,
            "unicode": str,
            "long": int,
            "basestring": str,
            "unichr": chr,
            "reduce": __import__("functools").reduce,
        }
    )
    return table


def to_summary(result):
    if result is None:
        return ""
    if isinstance(result, bytes):
        return surrogate_text(result)
    return str(result)


def run_task(source, argv, inputs, output_names, output_limit):
    """Runs the function and returns a dict with the summary, the outputs as (slot, bytes)
    pairs and what went wrong: `violation` (a denied operation), `limit_exceeded` (an output
    slot past its limit) or `memory_error`."""
    global active_state
    state = TaskState(inputs, output_names, output_limit)
    modules_before = set(sys.modules)
    task_globals = None
    summary = EXEC_ERROR
    memory_error = False
    try:
        tree = ast.parse(source, "<function>")
        SourceChecker().visit(tree)
        tree = ast.fix_missing_locations(FormatRewriter().visit(tree))
        code = compile(tree, "<function>", "exec", dont_inherit=True)
        teaclave_open = make_open(state)
        task_globals = {
            "__builtins__": make_builtins(state, teaclave_open),
            "__name__": "__main__",
        }
        active_state = state
        exec(code, task_globals)
        entrypoint = task_globals.get("entrypoint")
        if not callable(entrypoint):
            raise NameError("the source does not define entrypoint(argv)")
        summary = to_summary(entrypoint(list(argv)))
        if len(summary.encode("utf-8", "surrogateescape")) > MAX_SUMMARY_BYTES:
            summary = BUFFER_TOO_SHORT
    except PolicyViolation as error:
        state.deny(str(error))
    except MemoryError:
        memory_error = True
    except BaseException:
        summary = EXEC_ERROR
    outputs = [(slot, b"".join(chunks)) for slot, chunks in state.outputs]
    # Finalizers of the function's objects run here, so the audit hook stays active.
    if task_globals is not None:
        task_globals.clear()
    for name in set(sys.modules) - modules_before:
        del sys.modules[name]
    gc.collect()
    active_state = None
    return {
        "summary": summary,
        "outputs": outputs,
        "violation": state.violation,
        "limit_exceeded": state.limit_exceeded,
        "memory_error": memory_error,
        "log": state.log_lines(),
    }


def run_task_from_js(source, argv, slots, datas, output_names, output_limit):
    """Copies every argument out of its JsProxy into plain Python values, so the function
    never gets a JavaScript object, and runs the task. The JavaScript host calls this."""
    inputs = {}
    for index in range(len(slots)):
        inputs[str(slots[index])] = bytes(datas[index].to_bytes())
    return run_task(
        str(source),
        [str(arg) for arg in argv],
        inputs,
        [str(name) for name in output_names],
        int(output_limit),
    )
