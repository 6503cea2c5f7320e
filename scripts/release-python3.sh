#!/usr/bin/env bash
# The python3 of the Ceph release CEPH_RELEASE names, with that release's
# librados (its `rados` module), for `monc-bench --python`:
#   CEPH_RELEASE=reef scripts/bench.sh --python "$PWD/scripts/release-python3.sh" failover ...
# Unset, empty or `host`: the host's /usr/bin/python3. Otherwise it runs in
# the release's chroot (made by scripts/ceph-release.sh; needs root), in a
# mount namespace of its own with /proc and the host's /tmp (where the
# benchmark keeps its client conf and keyring) mounted inside; the mounts go
# away with the process. The network is the host's, so 127.0.0.1 is the same.
set -euo pipefail
release=${CEPH_RELEASE:-}
if [[ -z $release || $release == host ]]; then
  exec /usr/bin/python3 "$@"
fi
root=${CEPH_RELEASES_DIR:-/var/cache/monc-ceph-releases}/$release
if [[ ! -f $root/.monc-release-ready ]]; then
  echo "release-python3: $root is not prepared; run scripts/ceph-release.sh $release" >&2
  exit 1
fi
# unshare, sh and chroot all exec: the benchmark's pid is python's.
exec unshare --mount --propagation private -- sh -c '
  root=$1; shift
  mount -t proc proc "$root/proc"
  mkdir -p "$root/tmp"
  mount --bind /tmp "$root/tmp"
  exec chroot "$root" python3 "$@"
' sh "$root" "$@"
