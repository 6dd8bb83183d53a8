"""Peak memory of this process, as the kernel counts it for its own address space."""

import resource


def peak_mb() -> float:
    # VmHWM belongs to this process's memory map, which exec replaces. ru_maxrss does not
    # reset at exec: a child forked by a large parent reports the parent's size.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
