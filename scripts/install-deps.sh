#!/usr/bin/env bash
# Installs what building and testing need: Ceph's monitor, OSD, manager and
# CLI (for the testbed), nftables (the testbed's peer isolation), dnsmasq (a
# real DNS server for SRV discovery tests), tcpdump (recording sessions), a C
# toolchain (for linking), and checks for cargo. Idempotent:
# apt-get runs only when something is missing.
#
#   scripts/install-deps.sh [PACKAGE...]   also these Debian packages (e.g.
#                                          debootstrap, in the same apt-get)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages we need, each with a file or command that proves it is there.
declare -A PROBE=(
  [ceph-mon]=/usr/bin/ceph-mon
  [ceph-common]=/usr/bin/ceph-authtool
  [ceph-base]=/usr/bin/osdmaptool
  [ceph-osd]=/usr/bin/ceph-osd
  [ceph-mgr]=/usr/bin/ceph-mgr
  [dnsmasq-base]=/usr/sbin/dnsmasq
  [tcpdump]=/usr/bin/tcpdump
  [python3-rados]=/usr/lib/python3/dist-packages/rados.cpython-*.so
  [build-essential]=/usr/bin/cc
  [pkg-config]=/usr/bin/pkg-config
  [nftables]=/usr/sbin/nft
  [debootstrap]=/usr/sbin/debootstrap
)

is_installed() {
  local pkg=$1
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'
  else
    # Not Debian: accept the probe file if present.
    compgen -G "${PROBE[$pkg]-/nonexistent}" >/dev/null
  fi
}

missing=()
for pkg in ceph-mon ceph-common ceph-base ceph-osd ceph-mgr python3-rados build-essential pkg-config nftables dnsmasq-base tcpdump "$@"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]} and no apt-get; install them by hand" >&2
    exit 1
  fi
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: system packages present"
fi

# cargo may live in ~/.cargo/bin without being on PATH (non-login shells).
if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found; install Rust (https://rustup.rs)" >&2
  exit 1
fi
for tool in ceph-mon ceph-osd ceph-mgr ceph monmaptool ceph-authtool osdmaptool crushtool dnsmasq tcpdump; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "install-deps: $tool still missing after install" >&2
    exit 1
  }
done
echo "install-deps: $(cargo --version), $(ceph-mon --version | cut -d' ' -f1-3)"
