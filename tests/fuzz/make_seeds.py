#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/<target>/ (small, valid inputs).

Usage: python3 tests/fuzz/make_seeds.py  (from the repository root; standard library only).
The JPEG seeds of image_folder (encoded by Chromium's canvas) are kept as committed files.
"""
import gzip
import json
import os
import sqlite3
import struct
import zipfile
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")
REPO = os.path.dirname(os.path.dirname(ROOT))


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(shape, values, descr="<f4", fortran=False, version=1):
    fmt = {"<f4": "f", "|f4": "f", "=f4": "f", "|u1": "B", "<i2": "h"}[descr]
    shape_text = "(" + "".join(f"{d}, " if len(shape) > 1 else f"{d}," for d in shape).rstrip(" ") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    size_field = 2 if version == 1 else 4
    pad = (64 - (8 + size_field + len(header) + 1) % 64) % 64
    header += " " * pad + "\n"
    head = b"\x93NUMPY" + bytes([version, 0])
    head += struct.pack("<H" if version == 1 else "<I", len(header))
    return head + header.encode() + struct.pack("<%d%s" % (len(values), fmt), *values)


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def png(w, h, rows, color_type=2):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def make_sqlite(path, script, page_size=512):
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA page_size={page_size}")
    db.executescript(script)
    db.commit()
    db.execute("VACUUM")
    db.close()
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


LATENCY_SCHEMA = open(os.path.join(REPO, "profilers", "latency_table.cpp")).read()
LATENCY_SCHEMA = LATENCY_SCHEMA.split('R"sql(')[1].split(')sql"')[0]


def main():
    # arch_json: every named member of every space, with its space name.
    for def_name in sorted(os.listdir(os.path.join(REPO, "spaces", "defs"))):
        if not def_name.endswith(".json"):
            continue
        space = def_name[:-5]
        d = json.load(open(os.path.join(REPO, "spaces", "defs", def_name)))
        for i, (member, arch) in enumerate(sorted(d["named"].items())[:3]):
            put("arch_json", f"{space}-{member}.json", json.dumps(dict({"space": space}, **arch)))
        # space_def: the definitions themselves.
        put("space_def", def_name, json.dumps(d, separators=(",", ":")))
    put("space_def", "minimal.json", json.dumps(
        {"name": "x", "summary": "s", "dims": [{"name": "a", "values": [1, 2]}, {"name": "b", "range": [1, 3]}],
         "fixed": {"heads": 8}, "named": {"m": {"a": 1}}}))

    # npy / npz.
    put("npy", "f4_2x3.npy", npy((2, 3), [0.5, -1, 2, 3, 4, 1e-3]))
    put("npy", "f4_fortran.npy", npy((2, 3, 2), list(range(12)), fortran=True))
    put("npy", "u1.npy", npy((4,), [0, 1, 254, 255], descr="|u1"))
    put("npy", "i2_v2.npy", npy((2, 2), [-3, 7, 0, 32767], descr="<i2", version=2))
    put("npy", "scalar_v3.npy", npy((), [1.5], version=3))
    put("npy", "empty.npy", npy((0, 4), []))
    with open(os.path.join(REPO, "tests", "data", "efficientformer", "ef_tiny_vit0.logits.npy"), "rb") as f:
        put("npy", "real_logits.npy", f.read())
    for name, method in (("stored.npz", zipfile.ZIP_STORED), ("deflated.npz", zipfile.ZIP_DEFLATED)):
        path = os.path.join(CORPUS, name)
        with zipfile.ZipFile(path, "w", method) as z:
            # A fixed date keeps the archive byte-identical from run to run.
            for member, data in (("stage0.npy", npy((2, 2), [1, 2, 3, 4])), ("mean.npy", npy((3,), [0, 0, 0]))):
                z.writestr(zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0)), data, compress_type=method)
        put("npz", name, open(path, "rb").read())
        os.remove(path)

    # safetensors: every accepted dtype, metadata, an empty tensor.
    put("safetensors", "dtypes.safetensors", safetensors({
        "w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
        "h": ("F16", [3], struct.pack("<3H", 0x3C00, 0x0001, 0x7C00)),
        "b": ("BF16", [2], struct.pack("<2H", 0x3F80, 0xC000)),
        "n": ("I64", [], struct.pack("<q", 7)),
        "i": ("I32", [2], struct.pack("<2i", -1, 5)),
        "e": ("F32", [0, 3], b""),
    }, {"format": "pt"}))
    put("safetensors", "one.safetensors", safetensors({"x": ("F32", [1], struct.pack("<f", 0.25))}))

    # idx (plain and gzip) and fashion_mnist (flags byte, images length, images, labels).
    images = idx([2, 28, 28], [(i * 7) % 256 for i in range(2 * 28 * 28)])
    labels = idx([2], [3, 9])
    put("idx", "images.idx", images)
    put("idx", "labels.idx.gz", gzip.compress(labels, mtime=0))
    put("idx", "rank4.idx", idx([1, 2, 2, 2], range(8)))
    for flags, im, lb in ((1, images, labels), (0, gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)),
                          (2, images, labels)):
        put("fashion_mnist", f"split{flags}.bin", bytes([flags]) + struct.pack("<I", len(im)) + im + lb)

    # image_folder: PNG (RGB, grey, RGBA, tall); ImageFolder refuses other formats.
    put("image_folder", "rgb.png", png(5, 4, [[(x * 50 + y * 3 + c * 20) % 256 for x in range(5) for c in range(3)]
                                            for y in range(4)]))
    put("image_folder", "grey.png", png(3, 3, [[x * 80 for x in range(3)] for _ in range(3)], color_type=0))
    put("image_folder", "rgba.png", png(2, 2, [[255, 0, 0, 128, 0, 255, 0, 255]] * 2, color_type=6))
    put("image_folder", "tall.png", png(1, 40, [[y * 6, 0, 255 - y] for y in range(40)]))

    # agent_request: the first byte picks the endpoint (bit 0: measure_network).
    timing = {"warmup": 1, "min_repeats": 3, "min_time_ms": 0.5, "max_repeats": 10}
    for i, blocks in enumerate([
            ["flatten:c=448,h=7,w=7", "head:c=448,n=49,classes=1000,dist=1"],
            ["evit_mbconv:cin=16,c=24,h=64,w=64,expand=3,k=3,stride=2,se=0",
             "evit_attention:c=64,h=8,w=8,heads=4,v_scale=2", "evit_ffn:c=64,h=8,w=8,mlp=2"],
            ["downsample:cin=48,c=96,h=56,w=56", "meta3d:c=448,h=7,w=7,heads=8,kd=32,ar=4,mlp=4"],
            ["hiera_block:cin=8,c=16,h=6,w=6,heads=2,mu=4,qpool=1,mlp=2"]]):
        body = json.dumps({"blocks": blocks, "timing": timing})
        put("agent_request", f"measure{i}.json", b"\x00" + body.encode())
        put("agent_request", f"network{i}.json", b"\x01" + body.encode())

    # external_reply: answers, an error answer, a wrong id.
    for i, line in enumerate(['{"id": 3, "accuracy": 0.715}', '{"id":3,"accuracy":1e-3}\r\n',
                              '{"id": 3, "error": "CUDA out of memory"}', '{"id": 4, "accuracy": 0.5}',
                              '{"accuracy": 71, "id": 3, "extra": [1, {"a": null}]}']):
        put("external_reply", f"reply{i}.txt", line)

    # latency_table: hwnas's schema, one device with rows and both calibrations; WAL and not.
    # Schema 4 (profilers/latency_table.cpp): timing conditions, and one row predicted by a
    # few-shot transfer model. table_v1.db and table_v3.db are kept as this script wrote them for
    # schemas 1 (commit 9b15fa2) and 3 (commit fa9b31a), so that the migrations are fuzzed too.
    rows = "".join(
        f"INSERT INTO latencies VALUES(1, '{k}', 1, 1, {m}, {m * 0.9}, {m * 1.2}, {m}, 0.01, 20, "
        f"'2026-01-01T00:00:00Z', {m * 20}, {m * 19}, 0, 1, 3, 0, '{origin}', {by}, {err}, "
        f"{m * 0.5});"
        for k, m, origin, by, err in (
            ("flatten:c=448,h=7,w=7", 0.002, "measured", "NULL", "NULL"),
            ("head:c=448,n=49,classes=1000,dist=1", 0.05, "measured", "NULL", "NULL"),
            ("downsample:cin=48,c=96,h=56,w=56", 0.31, "predicted", "'few-shot ridge'", 0.08)))
    table = (LATENCY_SCHEMA
             + "INSERT INTO meta VALUES('format','hwnas-latency-table'),('schema_version','4');"
             + "INSERT INTO builds VALUES(1, 'hwnas-engine 0.1.0 (git fuzz)');"
             + "INSERT INTO devices VALUES(1,'host','cpu',2,1,'fp32',1,1,'2026-01-01T00:00:00Z');"
             + "INSERT INTO runs VALUES(1,1,1,'local','{\"warmup\":1}','2026-01-01T00:00:00Z');" + rows
             + "INSERT INTO calibrations VALUES(1,'overhead',1,'{\"ms\":0.01,\"ms_p10\":0.009}','x');"
             + "INSERT INTO calibrations VALUES(1,'correction',1,"
               "'{\"model\":\"ridge-per-kind-v1\",\"intercept_ms\":0.02,\"lambda\":0.1,"
               "\"samples\":12,\"scale\":{\"flatten\":1.1,\"head\":0.9},"
               "\"per_block_ms\":{\"downsample\":0.01}}','x');")
    put("latency_table", "table.db", make_sqlite("/tmp/hwnas-seed.db", table))
    put("latency_table", "table_wal.db", make_sqlite("/tmp/hwnas-seed.db", "PRAGMA journal_mode=WAL;" + table))
    put("latency_table", "no_rows.db", make_sqlite(
        "/tmp/hwnas-seed.db", LATENCY_SCHEMA + "INSERT INTO meta VALUES('format','hwnas-latency-table'),"
        "('schema_version','4');"))

    # run_db: RunStore's schema with a checkpoint of the fuzz targets' problem (macs, params).
    run_schema = (
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE evaluations(id INTEGER PRIMARY KEY, generation INTEGER NOT NULL, genes TEXT NOT NULL, "
        "arch TEXT NOT NULL, objectives TEXT NOT NULL, constraints TEXT NOT NULL, violation REAL NOT NULL, "
        "feasible INTEGER NOT NULL);"
        "CREATE TABLE generations(generation INTEGER PRIMARY KEY, evaluations INTEGER NOT NULL, "
        "front_size INTEGER NOT NULL, hypervolume REAL NOT NULL, elapsed_s REAL NOT NULL);"
        "INSERT INTO meta VALUES('schema_version','1');")
    arch = {"space": "efficientformer-fmnist", "embed_dims": [16, 32, 64, 128], "depths": [1, 1, 1, 1],
            "num_vit": 0, "resolution": 64}
    run = (run_schema
           + "INSERT INTO meta VALUES('config','{\"space\":\"efficientformer-fmnist\",\"seed\":1}');"
           + "INSERT INTO meta VALUES('algorithm_state','{\"population\":[[16,32,64,128,1,1,1,1,0,64]]}');"
           + "INSERT INTO meta VALUES('runner_state','{\"evaluations\":2}');"
           + "INSERT INTO meta VALUES('last_generation','1');"
           + f"INSERT INTO evaluations VALUES(1,0,'[16,32,64,128,1,1,1,1,0,64]','{json.dumps(arch)}',"
             "'{\"macs\":1.5e6,\"params\":2e5}','{\"params\":2e5}',0,1);"
           + f"INSERT INTO evaluations VALUES(2,1,'[16,32,64,128,2,1,1,1,0,64]','{json.dumps(arch)}',"
             "'{\"macs\":2.5e6,\"params\":3e6}','{\"params\":3e6}',0.5,0);"
           + "INSERT INTO generations VALUES(0,1,1,0.25,0.5),(1,2,1,0.3,1.0);")
    put("run_db", "run.db", make_sqlite("/tmp/hwnas-seed.db", run))
    put("run_db", "run_wal.db", make_sqlite("/tmp/hwnas-seed.db", "PRAGMA journal_mode=WAL;" + run))
    put("run_db", "fresh.db", make_sqlite("/tmp/hwnas-seed.db", run_schema))
    # Schema 2: each evaluation's image counts and 95 % intervals (results/run_store.cpp).
    run_v2 = (run.replace("feasible INTEGER NOT NULL);",
                          "feasible INTEGER NOT NULL, samples TEXT NOT NULL DEFAULT '{}', "
                          "intervals TEXT NOT NULL DEFAULT '{}');")
              .replace("('schema_version','1')", "('schema_version','2')")
              .replace(",0,1);", ",0,1,'{\"params\":1000}','{\"params\":[0.1,0.2]}');")
              .replace(",0.5,0);", ",0.5,0,'{}','{}');"))
    put("run_db", "run_v2.db", make_sqlite("/tmp/hwnas-seed.db", run_v2))
    # Schema 3: a failed evaluation (its reason, null objectives; results/run_store.cpp).
    run_v3 = (run_v2.replace("intervals TEXT NOT NULL DEFAULT '{}');",
                             "intervals TEXT NOT NULL DEFAULT '{}', failure TEXT NOT NULL DEFAULT '');")
              .replace("('schema_version','2')", "('schema_version','3')")
              .replace(",'{\"params\":[0.1,0.2]}');", ",'{\"params\":[0.1,0.2]}','');")
              .replace("'{\"macs\":2.5e6,\"params\":3e6}','{\"params\":3e6}',0.5,0,'{}','{}');",
                       "'{\"macs\":null,\"params\":null}','{\"params\":null}',1.7976931348623157e308,0,"
                       "'{}','{}','external accuracy command exited (exit status 139)');"))
    assert run_v3.count("exit status 139") == 1 and run_v3.count(",'');") == 1, "seed v3 edit"
    put("run_db", "run_v3.db", make_sqlite("/tmp/hwnas-seed.db", run_v3))

    # front_json: fronts of the run front_json.cpp stores (efficientformer-fmnist, macs, params).
    small = dict(arch)
    large = dict(arch, embed_dims=[48, 96, 224, 448], depths=[3, 2, 6, 4], num_vit=1)
    front = {"space": "efficientformer-fmnist", "algorithm": "nsga2", "seed": 1, "device": "host",
             "objectives": [{"name": "macs", "sense": "min", "unit": "MACs", "source": "network"},
                            {"name": "params", "sense": "min", "unit": "params", "source": "network"}],
             "constraints": [{"name": "params", "max": 2e6, "unit": "params"}],
             "evaluations": 3, "hypervolume": 0.5,
             "hypervolume_reference": {"lo": [0, 0], "hi": [1e9, 1e7], "point": [1.1, 1.1]},
             "stop_reason": "budget",
             "members": [{"arch": small, "objectives": {"macs": 1.5e6, "params": 2e5}, "feasible": True},
                         {"arch": large, "objectives": {"macs": 9e7, "params": 3e6}, "feasible": False}]}
    put("front_json", "front.json", json.dumps(front, indent=1))
    put("front_json", "empty_front.json", json.dumps(dict(front, members=[])))
    put("front_json", "front_intervals.json", json.dumps(front_with_intervals(front, small), indent=1))


def front_with_intervals(front, small):
    """A front whose members and named references carry image counts and Wilson intervals
    (front_json.h), one reference unscored, for the exporters' interval and reference paths."""
    members = [dict(m, samples={"params": 1000}, intervals={"params": [0.1, 0.2]})
               for m in front["members"]]
    members[0]["objectives"] = {"macs": 1.5e6, "params": 0.15}
    refs = [{"name": "s", "arch": small, "objectives": {"macs": 1e6, "params": 0.12},
             "feasible": True, "samples": {"params": 500}, "intervals": {"params": [0.1, 0.15]}},
            {"name": "l", "note": "not scored: missing row"}]
    return dict(front, members=members, references=refs,
                final_rescore={"split": "val", "samples": "all", "candidates": 2})


main()
