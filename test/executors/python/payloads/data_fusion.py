# Data fusion, step 1: copies every line of InPartyA and InPartyB to OutFusionData.
def entrypoint(argv):
    count = 0
    with teaclave_open("OutFusionData", "wb") as out:
        for slot in ["InPartyA", "InPartyB"]:
            with teaclave_open(slot, "rb") as f:
                for line in f.readlines():
                    if not line.endswith("\n"):
                        line = line + "\n"
                    out.write(line)
                    count += 1
    return "Mixed %d lines of data" % count
