#!/usr/bin/env python3
"""The kernel side of the read-only disk test (issue 21), with no Fairgate code.

One thread appends 4 KiB records to a file on a fresh ext4 loop device (mounted
errors=remount-ro) and syncs after each; the last record whose sync returned
success is "acknowledged". At a random moment the kernel's own hook
(/sys/fs/ext4/DEV/trigger_fs_error) fails the file system, which aborts its journal
and goes read-only. After unmount, e2fsck -fy and mount, the acknowledged record
must be in the file. On Linux 6.18 it sometimes is not: the file's growth was in
the journal transaction the error aborted, though the sync had returned success.

Usage (root): scripts/fsync-race.py [RUNS] [append|overwrite] [fsync|fdatasync]
Prints each run that lost its acknowledged record, then the total.
"""
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
mode = sys.argv[2] if len(sys.argv) > 2 else "append"
sync = os.fsync if (sys.argv[3] if len(sys.argv) > 3 else "fsync") == "fsync" else os.fdatasync
work = tempfile.mkdtemp(prefix="fsync-race-")
img, mnt = os.path.join(work, "disk.img"), os.path.join(work, "mnt")
os.makedirs(mnt)
BLOCK, SLOTS = 4096, 4000


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, **kw)


lost = 0
for n in range(runs):
    with open(img, "wb") as f:
        f.truncate(96 << 20)
    run("mkfs.ext4", "-q", "-F", img)
    run("mount", "-o", "loop,errors=remount-ro", img, mnt)
    dev = run("findmnt", "-n", "-o", "SOURCE", mnt, text=True).stdout.strip().split("/")[-1]
    path = os.path.join(mnt, "log")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if mode == "overwrite":
        os.write(fd, b"\0" * BLOCK * SLOTS)
        os.fsync(fd)
    acked = [-1]

    def writer():
        i = 0
        while True:
            offset = BLOCK * (i % SLOTS if mode == "overwrite" else i)
            try:
                os.pwrite(fd, i.to_bytes(8, "little") * (BLOCK // 8), offset)
                sync(fd)
            except OSError:
                return
            acked[0] = i
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(random.uniform(0.05, 0.3))
    with open(f"/sys/fs/ext4/{dev}/trigger_fs_error", "w") as hook:
        hook.write("fsync-race")
    t.join()
    os.close(fd)
    run("umount", mnt)
    subprocess.run(["e2fsck", "-fy", img], capture_output=True)
    run("mount", "-o", "loop", img, mnt)
    with open(path, "rb") as f:
        data = f.read()
    run("umount", mnt)
    i = acked[0]
    if i < 0:
        continue
    offset = BLOCK * (i % SLOTS if mode == "overwrite" else i)
    if data[offset : offset + 8] != i.to_bytes(8, "little"):
        lost += 1
        print(f"run {n}: record {i} was acknowledged; the file holds {len(data) // BLOCK} records")
os.remove(img)
os.rmdir(mnt)
os.rmdir(work)
print(f"{runs} runs ({mode}, {sync.__name__}): {lost} lost an acknowledged record")
