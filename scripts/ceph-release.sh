#!/usr/bin/env bash
# Prepares another Ceph release for the testbed: a Debian chroot holding that
# release's ceph-mon, ceph-osd, ceph-mgr, ceph, monmaptool, ceph-authtool,
# osdmaptool and crushtool, built from Debian's own packages with debootstrap.
#
#   scripts/ceph-release.sh reef       # Ceph 18.2.x from Debian trixie
#   scripts/ceph-release.sh tentacle   # Ceph 20.2.x from Debian forky
#
# The chroot lives in ${CEPH_RELEASES_DIR:-/var/cache/monc-ceph-releases}/RELEASE
# and is made once per machine: a stamp file written last marks it complete,
# and a half-made chroot (no stamp) is removed and made again. Then run the
# testbed with CEPH_RELEASE=RELEASE. Needs root (debootstrap, chroot, mount).
# CEPH_RELEASE_MIRROR overrides the Debian mirror (default: the one apt uses).
set -euo pipefail

usage() {
  echo "usage: $0 reef|tentacle" >&2
  exit 2
}
(($# == 1)) || usage
release=$1

# Release -> Debian suite that ships it, and the version we expect there.
case $release in
reef) suite=trixie expected=18.2 ;;
tentacle) suite=forky expected=20.2 ;;
*) usage ;;
esac

if [[ $(id -u) -ne 0 ]]; then
  echo "ceph-release: run as root (debootstrap and chroot need it)" >&2
  exit 1
fi

root_dir=${CEPH_RELEASES_DIR:-/var/cache/monc-ceph-releases}
dir=$root_dir/$release
# Must match the stamp name the testbed checks (crates/testbed/src/runtime.rs).
stamp=$dir/.monc-release-ready

# What the testbed runs from the chroot, and the packages that bring it.
packages=(ceph-mon ceph-common ceph-base ceph-osd ceph-mgr)
tools=(ceph-mon ceph-osd ceph-mgr ceph monmaptool ceph-authtool osdmaptool crushtool)

# Tools a ready chroot lacks (chroots made before a package joined the list).
missing_tools() {
  local tool
  for tool in "${tools[@]}"; do
    chroot "$dir" sh -c "command -v $tool" >/dev/null || echo "$tool"
  done
}

# The mirror apt already uses here: the first URI of a Debian main archive in
# deb822 sources (URIs:) or one-line sources (deb URI suite ...).
find_mirror() {
  local uri
  uri=$(
    {
      grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
      grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
    } | grep -E '/debian/?$' | head -n1
  )
  echo "${uri%/}"
}
mirror=${CEPH_RELEASE_MIRROR:-$(find_mirror)}
if [[ -z $mirror ]]; then
  echo "ceph-release: no Debian mirror found in /etc/apt/sources.list*; set CEPH_RELEASE_MIRROR" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "ceph-release: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
fi

# Older debootstraps have no script for the newest suites; Debian's testing
# suites all bootstrap like sid.
script_args=()
if [[ ! -e /usr/share/debootstrap/scripts/$suite ]]; then
  script_args=(/usr/share/debootstrap/scripts/sid)
fi

mkdir -p "$root_dir"
# One builder per machine at a time; a second caller waits, then sees the stamp.
exec 9>"$root_dir/.$release.lock"
flock 9
export DEBIAN_FRONTEND=noninteractive
# The mirror may serve a frozen snapshot whose Release files have expired.
apt_opts=(-q -o Acquire::Check-Valid-Until=false)
if [[ -f $stamp ]]; then
  if [[ -n $(missing_tools) ]]; then
    # A chroot from before a package joined the list: add what it lacks.
    echo "ceph-release: adding $(missing_tools | tr '\n' ' ')to $dir"
    mount -t proc proc "$dir/proc"
    trap 'umount -l "$dir/proc" 2>/dev/null || true' EXIT
    chroot "$dir" apt-get "${apt_opts[@]}" update
    chroot "$dir" apt-get "${apt_opts[@]}" install -y --no-install-recommends "${packages[@]}"
    chroot "$dir" apt-get clean
    if [[ -n $(missing_tools) ]]; then
      echo "ceph-release: still missing in $dir: $(missing_tools | tr '\n' ' ')" >&2
      exit 1
    fi
  fi
  echo "ceph-release: $release ready in $dir ($(cat "$stamp"))"
  exit 0
fi

# Leaves nothing mounted below the chroot, whatever happened.
unmount_inside() {
  local mnt
  # Deepest first.
  for mnt in $(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$mnt" 2>/dev/null || true
  done
}
trap unmount_inside EXIT

if [[ -e $dir ]]; then
  echo "ceph-release: removing unfinished $dir"
  unmount_inside
  rm -rf --one-file-system "$dir"
fi

start=$SECONDS
echo "ceph-release: debootstrap $suite from $mirror into $dir"
# The base system first, Ceph after with apt: debootstrap's own resolver
# (--include=ceph-mon,...) unpacks systemd before its pre-dependency is
# configured on trixie and fails.
debootstrap --variant=minbase "$suite" "$dir" "$mirror" "${script_args[@]}"

# Package scripts want /proc; no service may start in the chroot.
mount -t proc proc "$dir/proc"
printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
chmod +x "$dir/usr/sbin/policy-rc.d"
chroot "$dir" apt-get "${apt_opts[@]}" update
chroot "$dir" apt-get "${apt_opts[@]}" install -y --no-install-recommends "${packages[@]}"
version=$(chroot "$dir" ceph --version)
mon_version=$(chroot "$dir" ceph-mon --version)
if [[ -n $(missing_tools) ]]; then
  echo "ceph-release: missing in $dir: $(missing_tools | tr '\n' ' ')" >&2
  exit 1
fi
umount "$dir/proc"
case $version in
"ceph version $expected."*) ;;
*)
  echo "ceph-release: expected Ceph $expected.x in $suite, got: $version" >&2
  exit 1
  ;;
esac
# Compare the version numbers only: the build notes differ between the two
# ("(stable)" / "(stable - RelWithDebInfo)" on Tentacle).
if [[ $(cut -d' ' -f1-3 <<<"$mon_version") != $(cut -d' ' -f1-3 <<<"$version") ]]; then
  echo "ceph-release: ceph and ceph-mon differ: $version / $mon_version" >&2
  exit 1
fi
# Package caches are not needed to run; keep the folder small.
chroot "$dir" apt-get clean

echo "$version" >"$stamp"
echo "ceph-release: $release ready in $dir: $version"
echo "ceph-release: took $((SECONDS - start)) s; disk: $(du -sh --one-file-system "$dir" | cut -f1)"
