"""The disk's physical limit where the server's database lives (issue 17): how many
durable appends a second (4 KiB written at the end of a file, then fdatasync: what a WAL commit
costs), and sequential write throughput (1 MiB blocks, one fsync at the end).

    python3 bench/disk.py DIR SECONDS SEQ_MIB  →  one JSON line
"""
import json
import os
import sys
import time

d, seconds, seq_mib = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
path = os.path.join(d, "disk-probe")
block = os.urandom(4096)

fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    os.write(fd, block)
    os.fdatasync(fd)
    n += 1
fsyncs = n / (time.perf_counter() - t0)
os.close(fd)

mib = os.urandom(1 << 20)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
t0 = time.perf_counter()
for _ in range(seq_mib):
    os.write(fd, mib)
os.fsync(fd)
seq = seq_mib * (1 << 20) / (time.perf_counter() - t0)
os.close(fd)
os.unlink(path)

print(json.dumps({"bench": "disk", "fsyncs_per_s": fsyncs, "appends": n,
                  "seq_write_mb_per_s": seq / 1e6, "seq_mib": seq_mib}))
