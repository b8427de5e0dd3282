# Data fusion, step 2: counts the lines of InputData that contain the query argv[1].
def entrypoint(argv):
    query = argv[1]
    count = 0
    for line in teaclave_open("InputData", "rb").readlines():
        if query in line:
            count += 1
    return str(count)
