#!/usr/bin/env bash
# Assembles, in DIR, the root filesystem of gcr.io/distroless/static:nonroot
# from this machine's Debian packages (ca-certificates, tzdata), with the
# portal's static binary: what the production image holds, buildable with
# no registry. Used by .ci/run with deploy/Containerfile.offline.
#   deploy/rootfs.sh BINARY DIR
set -euo pipefail
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"/etc/ssl/certs "$dir"/usr/share "$dir"/home/nonroot "$dir"/tmp
cp "$bin" "$dir"/mfaportal
chmod 0755 "$dir"/mfaportal
cp /etc/ssl/certs/ca-certificates.crt "$dir"/etc/ssl/certs/ca-certificates.crt
cp -r /usr/share/zoneinfo "$dir"/usr/share/zoneinfo
# distroless's users: root, nobody, and nonroot (65532) whose home is /home/nonroot.
cat > "$dir"/etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$dir"/etc/group <<'GROUP'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
GROUP
chown 65532:65532 "$dir"/home/nonroot
chmod 1777 "$dir"/tmp
