# Returns the first line of the optional input slot input_data1, or a note that it is missing.
from teaclave import open


def entrypoint(argv):
    try:
        with open("input_data1", "rb") as f:
            return f.readline()
    except RuntimeError:
        return "input_data1 does not exist"
