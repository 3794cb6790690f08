#!/usr/bin/env bash
# Build the local test image wharf/busybox:latest (busybox with every applet), used by the
# tests, the benchmarks and the README examples. There is no registry to pull from, so the
# image is assembled from the host's static busybox. Idempotent: skips when present unless
# --force is given.
set -eu
image=wharf/busybox:latest
if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
bb=$(command -v busybox || true)
[ -x /bin/busybox ] && bb=/bin/busybox
if [ -z "$bb" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    bb=/bin/busybox
  else
    echo "build-test-image: busybox not found; install busybox-static" >&2; exit 1
  fi
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/output" "$root/etc"
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for c in $("$root/bin/busybox" --list); do
  [ "$c" = busybox ] || ln -sf busybox "$root/bin/$c"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$image" >/dev/null
echo "build-test-image: built $image" >&2
