#!/usr/bin/env bash
# Checks that every crate's rust-version is at least the highest
# rust-version any locked dependency declares: the MSRV we state must be one
# a user can build with. (Our own use of std is checked by clippy's
# incompatible_msrv lint, denied in the workspace's [lints].)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo metadata --locked --format-version 1 | python3 -c '
import json, sys

def version(v):
    return tuple(int(x) for x in v.split("."))[:3] + (0,) * (3 - len(v.split(".")))

meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
deps = [p for p in meta["packages"] if p["id"] not in members and p.get("rust_version")]
need = max(deps, key=lambda p: version(p["rust_version"]))
failed = False
for p in meta["packages"]:
    if p["id"] not in members:
        continue
    declared = p.get("rust_version")
    if not declared:
        print(f"msrv: {p['"'"'name'"'"']} declares no rust-version")
        failed = True
    elif version(declared) < version(need["rust_version"]):
        print(f"msrv: {p['"'"'name'"'"']} declares {declared}, but {need['"'"'name'"'"']} {need['"'"'version'"'"']} needs {need['"'"'rust_version'"'"']}")
        failed = True
print(f"msrv: highest among locked dependencies: {need['"'"'rust_version'"'"']} ({need['"'"'name'"'"']} {need['"'"'version'"'"']})")
sys.exit(1 if failed else 0)
'
