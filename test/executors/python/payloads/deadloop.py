# Never returns; used to test the CPU time limit and cancellation.
def entrypoint(argv):
    while True:
        pass
