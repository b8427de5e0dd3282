# Returns the value of the "message" argument, like Teaclave's MesaPy echo example.
def entrypoint(argv):
    assert argv[0] == "message"
    assert argv[1] is not None
    return argv[1]
