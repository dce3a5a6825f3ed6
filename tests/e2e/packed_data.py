#!/usr/bin/env python3
"""Packed data sets end to end, through the tgc binary:
  packed_data.py BUILD_DIR WORK_DIR
- tgc data pack / inspect / verify on generated .npy files (NAME=GLOB);
- bad shards (truncated, missing, corrupted, a label out of range) are errors
  before step 1 that name the shard, the field and the file;
- peak resident memory of a whole epoch of `tgc train` does not grow with the
  data set: 50 MB and 500 MB of records differ by less than 32 MB.
Needs no NumPy: the .npy files are written by hand."""
import os
import random
import shutil
import struct
import subprocess
import zlib
import sys

build, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
tgc = os.path.join(build, "tools", "tgc")
example = os.path.join(build, "examples", "tg-example")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chdir(work)
env = dict(os.environ, OMP_NUM_THREADS="1")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(args, expect_ok=True):
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if expect_ok and p.returncode != 0:
        fail(f"{' '.join(args)} exited {p.returncode}: {p.stderr[-2000:]}")
    if not expect_ok and p.returncode == 0:
        fail(f"{' '.join(args)} succeeded; expected an error")
    return p


def write_npy(path, descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        f.write(data)


def make_data(name, records, files):
    """`files` .npy files of u8 [n, 784] images and u8 [n] labels in 0..9."""
    os.makedirs(name)
    rng = random.Random(7)
    per = records // files
    for i in range(files):
        write_npy(f"{name}/x-{i:03d}.npy", "|u1", [per, 784], os.urandom(per * 784))
        write_npy(f"{name}/y-{i:03d}.npy", "|u1", [per],
                  bytes(rng.randrange(10) for _ in range(per)))


# The model: the Fashion MLP, whose arguments are named image and label.
run([example, "fashion-mlp", "--batch", "128", "-o", "mlp.tg.mlir"])
run([tgc, "compile", "mlp.tg.mlir", "-o", "mlp.tgx"])

# pack / inspect / verify, fields by the arguments' names from many files.
make_data("small", 64000, 4)
p = run([tgc, "data", "pack", "--from", "image=small/x-*.npy", "--from", "label=small/y-*.npy",
         "-o", "small.packed", "--shard-mb", "4"])
if "packed 64000 records into 12 shards" not in p.stdout:
    fail("pack: " + p.stdout)
p = run([tgc, "data", "inspect", "small.packed"])
for want in ["64000 records in 12 shards", "image", "label", "u8", "[784]", "histogram (10 values)"]:
    if want not in p.stdout:
        fail(f"inspect lacks '{want}': {p.stdout}")
run([tgc, "data", "verify", "small.packed"])
p = run([tgc, "data", "pack", "--from", "image=small/x-*.npy", "-o", "small.packed"], False)
if "already holds a packed data set" not in p.stderr:
    fail("packing over a packed directory: " + p.stderr)
print("ok: pack, inspect and verify 64000 records from 4+4 .npy files")

# Bad shards: each is an error before the first step, naming what is wrong.
def broken(name, change, *wants, verify=False):
    shutil.copytree("small.packed", name)
    change(name)
    args = [tgc, "data", "verify", name] if verify else [tgc, "train", "mlp.tgx", "--data", name,
                                                        "--steps", "1", "--progress=none"]
    p = run(args, False)
    for want in wants:
        if want not in p.stderr:
            fail(f"{name}: error lacks '{want}': {p.stderr}")
    if not verify and "step 1" in p.stderr:
        fail(f"{name}: the error came at a step, not before: {p.stderr}")
    print(f"ok: {name}: {p.stderr.strip().splitlines()[-1][:160]}")


def truncate(d):
    path = f"{d}/shard-00003.image.npy"
    os.truncate(path, os.path.getsize(path) - 100)


def corrupt(d):
    with open(f"{d}/shard-00005.image.npy", "r+b") as f:
        f.seek(5000)
        b = f.read(1)
        f.seek(5000)
        f.write(bytes([b[0] ^ 0xFF]))


def bad_label(d):
    path = f"{d}/shard-00007.label.npy"
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) - 1)
        f.write(bytes([42]))


broken("truncated", truncate, "shard 3", "'image'", "shard-00003.image.npy", "bytes")
broken("missing", lambda d: os.remove(f"{d}/shard-00001.label.npy"), "shard 1", "'label'",
       "shard-00001.label.npy")
broken("corrupted", corrupt, "shard 5", "'image'", "CRC-32", verify=True)
broken("bad-label", bad_label, "shard 7", "'label'", "42", "not a class")
# --skip-bad-records: the record with the bad label is left out, counted and
# reported; the epoch has one record less (63999: 499 whole batches of 128).
p = run([tgc, "train", "mlp.tgx", "--data", "bad-label", "--epochs", "1", "--progress=none",
         "--skip-bad-records"])
for want in ["skipping 1 bad record", "data: skipped 1 bad record", "shard 7", "42"]:
    if want not in p.stderr:
        fail(f"--skip-bad-records lacks '{want}': {p.stderr}")
if "(63999 examples" not in p.stderr or "trained 499 steps" not in p.stdout:
    fail("--skip-bad-records did not leave one record out: " + p.stdout + p.stderr)
print("ok: --skip-bad-records leaves the bad label's record out and reports it")
for d in ["truncated", "missing", "corrupted", "bad-label"]:
    shutil.rmtree(d)

# An image folder (PNGs of several sizes, gray and RGB) packed as the MLP's
# 1 x 28 x 28 input, trained on; an undecodable image names its file.
def png(path, w, h, rgb, level):
    raw = b"".join(b"\x00" + bytes((level + x + y) % 256 for x in range(w) for _ in range(3 if rgb else 1))
                   for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2 if rgb else 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) +
                chunk(b"IEND", b""))


for k in range(10):
    os.makedirs(f"folder/class{k}")
    for i in range(4):
        png(f"folder/class{k}/{i}.png", 20 + 7 * i, 40 - 5 * i, i % 2 == 0, 25 * k)
run([example, "fashion-mlp", "--batch", "8", "-o", "mlp8.tg.mlir"])
run([tgc, "compile", "mlp8.tg.mlir", "-o", "mlp8.tgx"])
p = run([tgc, "data", "pack", "--from", "folder", "--size", "28x28", "--channels", "1", "-o",
         "folder.packed"])
if "packed 40 records" not in p.stdout or "40 images in 10 classes" not in p.stderr:
    fail("image folder pack: " + p.stdout + p.stderr)
p = run([tgc, "data", "inspect", "folder.packed"])
if "[1, 28, 28]" not in p.stdout or "histogram (10 values)" not in p.stdout:
    fail("image folder inspect: " + p.stdout)
p = run([tgc, "train", "mlp8.tgx", "--data", "folder.packed", "--epochs", "2", "--progress=none"])
if "trained 10 steps" not in p.stdout:
    fail("training on an image folder: " + p.stdout + p.stderr)
with open("folder/class3/broken.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
p = run([tgc, "data", "pack", "--from", "folder", "--size", "28x28", "-o", "broken.packed"], False)
if "class3/broken.png" not in p.stderr:
    fail("an undecodable image: " + p.stderr)
p = run([tgc, "data", "pack", "--from", "folder", "--size", "28x28", "--channels", "1",
         "--skip-bad-records", "-o", "skipped.packed"])
if "packed 40 records" not in p.stdout or "skipped 1 image" not in p.stderr or \
        "class3/broken.png" not in p.stderr:
    fail("pack --skip-bad-records of a folder with a broken PNG: " + p.stdout + p.stderr)
p = run([tgc, "data", "inspect", "skipped.packed"])
if "40 records" not in p.stdout:
    fail("the folder packed without its broken PNG: " + p.stdout)
p = run([tgc, "data", "pack", "--from", "folder", "-o", "nosize.packed"], False)
if "--size HxW" not in p.stderr:
    fail("an image folder without --size: " + p.stderr)
print("ok: an image folder packs (40 PNGs, 10 classes), trains, and a broken PNG names its file")

# A text file packed (one byte a record) trains a character model exactly as
# the file does, the streams read from the shards.
text = "/usr/share/common-licenses/GPL-3"
run([example, "char-lstm", "--batch", "16", "--steps", "20", "--hidden", "32", "-o",
     "lstm.tg.mlir"])
run([tgc, "compile", "lstm.tg.mlir", "-o", "lstm.tgx"])
p = run([tgc, "data", "pack", "--from", text, "-o", "text.packed", "--shard-mb", "0.004"])
if "into 9 shards" not in p.stdout:
    fail("packing a text file: " + p.stdout)
losses = []
for src in [text, "text.packed"]:
    p = run([tgc, "train", "lstm.tgx", "--data", src, "--epochs", "2", "--progress=none"])
    losses.append(p.stdout.split(" in ")[0] + p.stdout.split("train")[-1])
if losses[0] != losses[1] or "in shards" not in p.stderr:
    fail(f"packed text trains otherwise than the file: {losses} {p.stderr}")
print("ok: a packed text file trains the char LSTM as the file does: " + losses[1].strip())

# Peak RSS over a whole epoch: 50 MB against 500 MB of records.
def epoch_rss(name):
    p = subprocess.Popen([tgc, "train", "mlp.tgx", "--data", name, "--epochs", "1",
                          "--progress=none"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env)
    _, status, usage = os.wait4(p.pid, 0)
    out, err = p.stdout.read().decode(), p.stderr.read().decode()
    if status != 0:
        fail(f"training on {name}: {err[-2000:]}")
    if "read 12 of 12" not in err and "read 120 of 120" not in err:
        fail(f"training on {name} did not read every shard: {err[-500:]}")
    return usage.ru_maxrss  # KiB


make_data("large", 640000, 10)
run([tgc, "data", "pack", "--from", "image=large/x-*.npy", "--from", "label=large/y-*.npy",
     "-o", "large.packed", "--shard-mb", "4"])
shutil.rmtree("large")
small, large = epoch_rss("small.packed"), epoch_rss("large.packed")
print(f"peak RSS of an epoch: {small / 1024:.1f} MiB on 50 MB, {large / 1024:.1f} MiB on 500 MB")
if abs(large - small) >= 32 * 1024:
    fail(f"peak RSS grows with the data set: {small} KiB on 50 MB, {large} KiB on 500 MB")
print("ok: peak RSS is flat in the data set's size")
shutil.rmtree(work)
