#!/usr/bin/env python3
"""Splits a tcpdump capture (Ethernet link type, IPv4, e.g. `-i lo`) into
TCP byte streams: for each connection N to SERVER_PORT, PREFIX.connN.c2s.bin
and PREFIX.connN.s2c.bin (every byte each side sent, in order) and
PREFIX.connN.chunks.jsonl (the segments in time order: dir, len, t_ms).
Retransmitted bytes are kept once. Usage: pcap-streams.py FILE PORT PREFIX"""
import json
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), "little-endian pcap expected"
    nano = magic == 0xA1B23C4D
    linktype = struct.unpack("<I", data[20:24])[0]
    assert linktype == 1, "Ethernet link type expected"
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        yield sec + frac / (1e9 if nano else 1e6), data[off:off + incl]
        off += incl


def main():
    path, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    conns = {}  # client port -> {dir: {"next": seq, "bytes": bytearray}}, chunks
    order = []
    t0 = None
    for t, pkt in packets(path):
        if struct.unpack("!H", pkt[12:14])[0] != 0x0800:
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6:
            continue
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        flags = tcp[13]
        doff = (tcp[12] >> 4) * 4
        payload = bytes(tcp[doff:])
        if dport == port:
            client, d = sport, "c2s"
        elif sport == port:
            client, d = dport, "s2c"
        else:
            continue
        if client not in conns:
            conns[client] = {"c2s": None, "s2c": None, "chunks": []}
            order.append(client)
        c = conns[client]
        if t0 is None:
            t0 = t
        syn = flags & 0x02
        if c[d] is None:
            c[d] = {"next": (seq + 1) if syn else seq, "bytes": bytearray()}
            if syn:
                continue
        s = c[d]
        if not payload:
            continue
        # Keep only new bytes (drop retransmitted ones).
        skip = (s["next"] - seq) % (1 << 32)
        if skip >= len(payload) and skip < (1 << 31):
            continue
        if skip >= (1 << 31):
            raise SystemExit(f"gap in {d} of connection {client}")
        new = payload[skip:]
        s["bytes"] += new
        s["next"] = (s["next"] + len(new)) % (1 << 32)
        c["chunks"].append({"dir": d, "len": len(new), "t_ms": round((t - t0) * 1000, 3)})
    for n, client in enumerate(order):
        c = conns[client]
        for d in ("c2s", "s2c"):
            with open(f"{prefix}.conn{n}.{d}.bin", "wb") as f:
                f.write(bytes(c[d]["bytes"]) if c[d] else b"")
        with open(f"{prefix}.conn{n}.chunks.jsonl", "w") as f:
            for ch in c["chunks"]:
                f.write(json.dumps(ch) + "\n")
        print(f"conn{n}: client port {client}, "
              f"c2s {len(c['c2s']['bytes'])} B, s2c {len(c['s2c']['bytes'])} B")


main()
