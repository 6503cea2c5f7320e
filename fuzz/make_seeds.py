#!/usr/bin/env python3
"""Builds fuzz/seeds/TARGET/ from real bytes: the recorded msgr2 sessions
(split into frames and payloads) and the encoded-object corpus.

Run from anywhere: python3 fuzz/make_seeds.py [SHARED_DIR]
(SHARED_DIR defaults to /work/shared). The seeds are committed, so the
fuzz targets do not need SHARED_DIR to run.
"""
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else "/work/shared"
CAPS = os.path.join(SHARED, "captures")
CORPUS = os.path.join(SHARED, "corpus")
CONF_DATA = os.path.join(HERE, "..", "crates", "config", "tests", "data")
OSDMAP_DATA = os.path.join(HERE, "..", "crates", "osdmap", "tests", "data")
MAX_SEED = 96 * 1024
# The map targets run with -max_len=16384 (scripts/fuzz.sh): longer seeds
# would only be cut short.
MAP_MAX_SEED = 16 * 1024

BANNER_LEN = 26
TAG_AUTH_DONE, TAG_MESSAGE = 6, 17


def write(target, data, limit=MAX_SEED):
    if len(data) > limit:
        return
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def piece(b):
    assert len(b) < 65536
    return struct.pack("<H", len(b)) + b


def split_crc_frames(stream, server):
    """Crc-mode frames after the banner: (tag, [segments], raw bytes).
    Stops where encryption starts (after a secure-mode AUTH_DONE from the
    server, or after our own AUTH_SIGNATURE-era frames, which the peer's
    AUTH_DONE makes secure)."""
    out = []
    at = BANNER_LEN
    while at + 32 <= len(stream):
        pre = stream[at:at + 32]
        tag, count = pre[0], pre[1]
        if not 1 <= count <= 4 or not 1 <= tag <= 22:
            break
        lens = [struct.unpack_from("<I", pre, 2 + 6 * i)[0] for i in range(count)]
        end = at + 32
        segs = []
        if lens[0]:
            segs.append(stream[end:end + lens[0]])
            end += lens[0] + 4
        else:
            segs.append(b"")
        if count > 1:
            for n in lens[1:]:
                segs.append(stream[end:end + n])
                end += n
            end += 13
        if end > len(stream):
            break
        out.append((tag, segs, stream[at:end]))
        at = end
        if server and tag == TAG_AUTH_DONE:
            con_mode = struct.unpack_from("<I", segs[0], 8)[0]
            if con_mode == 2:
                break
    return out


def secure_blocks(raw_frame, segs):
    """The plaintext GCM blocks of the same frame in secure layout."""
    pad = lambda b: b + b"\0" * (-len(b) % 16)
    pre = raw_frame[:32]
    seg0 = segs[0]
    blocks = [pre + (seg0[:48] + b"\0" * 48)[:48]]
    if len(seg0) > 48:
        blocks.append(pad(seg0[48:]))
    if len(segs) > 1:
        tail = b"".join(pad(s) for s in segs[1:])
        blocks.append(tail + b"\x0e" + b"\0" * 15)
    return blocks


def read(path):
    with open(path, "rb") as f:
        return f.read()


def captures():
    for mode in ("crc", "secure", "tentacle"):
        for n in range(4):
            base = os.path.join(CAPS, f"{mode}.conn{n}")
            if os.path.exists(base + ".s2c.bin"):
                yield mode, read(base + ".s2c.bin"), read(base + ".c2s.bin")


def main():
    frames_all = []
    for mode, s2c, c2s in captures():
        s_frames = split_crc_frames(s2c, True)
        c_frames = split_crc_frames(c2s, False)
        if mode == "crc" or len(c_frames) < 20:
            frames_all += s_frames + c_frames
        # handshake: the raw server stream, and the same as framed records
        write("handshake", b"\x00" + s2c)
        write("handshake", b"\x10" + s2c)
        records = b""
        for tag, segs, _ in s_frames:
            if max(len(x) for x in segs) > 65535:
                continue
            records += bytes([tag, len(segs) - 1]) + b"".join(piece(s) for s in segs)
        write("handshake", b"\x01" + records)
        if mode == "crc":
            # Same session with the server choosing secure mode: the rest
            # is sealed by the target with the fixed connection secret.
            sec = b""
            for tag, segs, _ in s_frames:
                if max(len(x) for x in segs) > 65535:
                    continue
                if tag == TAG_AUTH_DONE:
                    s0 = segs[0]
                    segs = [s0[:8] + struct.pack("<I", 2) + s0[12:]] + segs[1:]
                sec += bytes([tag, len(segs) - 1]) + b"".join(piece(s) for s in segs)
            write("handshake", b"\x01" + sec)
        # cephx: AUTH_REPLY_MORE then AUTH_DONE of each recorded login
        more = [s for t, s, _ in s_frames if t == 4]
        done = [s for t, s, _ in s_frames if t == TAG_AUTH_DONE]
        if more and done:
            more_payload = more[0][0][4:]
            d0 = done[0][0]
            gid = struct.unpack_from("<Q", d0, 0)[0]
            done_payload = d0[16:]
            key = b"\x01" if mode == "tentacle" else b"\x00"
            write("cephx", key + piece(more_payload) + struct.pack("<H", gid & 0xFFFF)
                  + piece(done_payload) + piece(b"") + piece(b"") + piece(b""))
        if mode == "crc":
            write("frame", b"\x00" + s2c[BANNER_LEN:])
            write("frame", b"\x40" + c2s[BANNER_LEN:])

    monmaps = []
    for tag, segs, raw in frames_all:
        write("frame", b"\x00" + raw)
        if len(raw) < 4096:
            sec = b"\x01"
            for b in secure_blocks(raw, segs):
                sec += b"\x01" + piece(b)
            write("frame", sec)
        if tag != TAG_MESSAGE:
            write("control_payloads", bytes([tag]) + segs[0])
            continue
        hdr = segs[0]
        ty, _prio, version = struct.unpack_from("<HHH", hdr, 16)
        front = segs[1] if len(segs) > 1 else b""
        data = segs[3] if len(segs) > 3 else b""
        write("control_payloads", bytes([200 + 2]) + hdr)  # MsgHeader2
        selector = {50: 0, 51: 1, 15: 2, 16: 3, 4: 4, 18: 5, 20: 6, 62: 7}.get(ty)
        if selector is not None:
            if len(front) < 65536:
                write("message_bodies", bytes([selector]) + struct.pack("<H", version)
                      + piece(front) + data)
        core_sel = {4: 0, 51: 1, 20: 2}.get(ty)
        if core_sel is not None and len(front) + len(data) < 60000:
            write("message_bodies", b"\x0c" + bytes([core_sel, version & 0xFF, 1])
                  + piece(front) + piece(data))
        if ty == 4:
            monmaps.append(front[4:])
        if ty == 51 and data.startswith(b"{"):
            write("command_table", data)
            write("command_table", data + b"\0osd pool create x 8")
            # Small tables of a dozen real commands each, so the fuzzer
            # also works at a few hundred bytes per input.
            table = list(json.loads(data).items())
            for i in range(0, len(table), 12):
                small = json.dumps(dict(table[i:i + 12]), separators=(",", ":"))
                write("command_table", small.encode())

    # monmap: corpus objects of each type, by selector
    types = {"MonMap": 0, "entity_addrvec_t": 1, "EntityName": 2, "entity_addr_t": 3,
             "mon_info_t": 4, "entity_name_t": 5, "entity_inst_t": 6,
             "feature_bitset_t": 7, "mon_feature_t": 8}
    cephx_types = {"CephXServerChallenge": 0, "CephXResponseHeader": 1, "CephXTicketBlob": 2,
                   "CephXAuthenticate": 3, "AuthTicket": 4, "CephXServiceTicket": 5,
                   "CephXServiceTicketInfo": 6, "CephXAuthorizeReply": 7, "CephXAuthorize": 8,
                   "CephXAuthorizeChallenge": 9, "EntityAuth": 10, "AuthCapsInfo": 11,
                   "CephXServiceTicketRequest": 13}
    # The OSD/mgr map targets: (target, first byte). The first byte 0 of
    # osdmap/osdmap_inc means "recompute the CRC", which a real encoding
    # already has right.
    map_types = {"OSDMap": ("osdmap", 0), "OSDMap::Incremental": ("osdmap_inc", 0),
                 "CrushWrapper": ("crush", 0), "pg_pool_t": ("crush", 1),
                 "MgrMap": ("mgrmap_log", 0), "LogEntry": ("mgrmap_log", 1),
                 "MgrMap::ModuleOption": ("mgrmap_log", 3),
                 "MgrMap::ModuleInfo": ("mgrmap_log", 4),
                 "MgrMap::StandbyInfo": ("mgrmap_log", 5)}
    for version in sorted(os.listdir(CORPUS)):
        vdir = os.path.join(CORPUS, version)
        if not os.path.isdir(vdir):
            continue
        for ty in os.listdir(vdir):
            for f in sorted(os.listdir(os.path.join(vdir, ty))):
                data = read(os.path.join(vdir, ty, f))
                if ty in types:
                    write("monmap", bytes([types[ty]]) + data)
                if ty in cephx_types:
                    write("cephx", bytes([128 + cephx_types[ty]]) + data)
                if ty in map_types:
                    target, selector = map_types[ty]
                    write(target, bytes([selector]) + data, MAP_MAX_SEED)
    for m in monmaps:
        write("monmap", b"\x00" + m)
    for f in os.listdir(CAPS):
        if f.endswith(".keyring"):
            write("cephx", bytes([128 + 15]) + read(os.path.join(CAPS, f)))

    # osdmap: the osdmap crate's whole maps (osdmaptool and a Pacific mon)
    if os.path.isdir(OSDMAP_DATA):
        for f in sorted(os.listdir(OSDMAP_DATA)):
            if f.endswith(".bin") and "osdmap" in f:
                write("osdmap", b"\x00" + read(os.path.join(OSDMAP_DATA, f)), MAP_MAX_SEED)

    # conf: the config crate's test files plus a few hand-made ones
    if os.path.isdir(CONF_DATA):
        for f in os.listdir(CONF_DATA):
            p = os.path.join(CONF_DATA, f)
            if os.path.isfile(p):
                write("conf", read(p))
    for text in [
        b"[global]\nmon_host = [v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] 10.0.0.2,10.0.0.3:6790\n",
        b"[global]\n\tmon host = a.multi;b.none;[::1]:3300;c.fail\nkey = \"q\\\"uoted\" # c\n",
        b"[mon.a]\nmon_addr = v2:1.2.3.4:3300\n[mon.b]\npublic addr = 1.2.3.5\n",
        b"[client.admin]\nmon_host=v2:[fe80::1%eth0]:3300/7\nkeyring = $cluster.$name.keyring\n",
        b"; comment\n[global] ; trailing\n  x = y \\\n continued\n",
    ]:
        write("conf", text)


if __name__ == "__main__":
    main()
