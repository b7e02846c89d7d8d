#!/usr/bin/env bash
# Lays out everything of the meshguard image except the application itself, which Jib adds on top (cli/pom.xml,
# profile `image`; docs/install.md section 2 says why it is built this way):
#   /opt/java                 a JRE jlink'd from the JDK running the build, only the modules meshguard uses
#   /lib, /lib64, /usr/share  the Debian packages that JRE needs (libc6 and what it depends on), unpacked as dpkg
#                             would, each with its /var/lib/dpkg/status.d entry so image scanners see its version
#   /etc                      passwd and group with the numeric user 10001, nsswitch.conf, os-release naming the
#                             distribution the packages come from
# and records what went in (OUT/../image-packages.tsv: package, version, architecture, SHA-256 of the .deb).
#
# Usage: deploy/image-rootfs.sh OUT      (JAVA_HOME: a JDK 21+ for Linux on this machine's architecture)
# Needs a Debian-family build host (apt-get, dpkg-deb): the packages come from its configured archive, so a
# rebuild after a Debian security update picks up the fixed libc. No Docker engine, no container registry.
set -euo pipefail

out=${1:?usage: image-rootfs.sh OUT}
: "${JAVA_HOME:?JAVA_HOME must name the JDK whose runtime goes into the image}"

fail() { echo "image-rootfs: $*" >&2; exit 1; }
for tool in apt-get apt-cache dpkg-deb readelf sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || fail "needs $tool: the image is built on a Debian or Ubuntu host (docs/install.md, section 2)"
done
[ -x "$JAVA_HOME/bin/jlink" ] || fail "$JAVA_HOME has no bin/jlink (a JRE cannot link a runtime; use a JDK)"

# What the shaded jar's classes use (jdeps --print-module-deps --multi-release 21 over cli/target/meshguard.jar),
# plus jdk.crypto.ec (on JDK 21 the EC signatures of ES256 tokens live there; an empty module from JDK 22 on) and
# jdk.charsets (database and header encodings beyond the standard ones). The image test runs the result.
modules=java.base,java.compiler,java.desktop,java.naming,java.net.http,java.security.jgss,java.sql,jdk.charsets
modules=$modules,jdk.crypto.ec,jdk.httpserver,jdk.incubator.vector,jdk.jfr,jdk.management,jdk.unsupported

rm -rf "$out"
mkdir -p "$out/opt"
# The AWT window system, sound and splash libraries link X11 and ALSA, which a server never loads (it runs
# headless); leaving them out keeps the image's native dependencies to libc alone.
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --output "$out/opt/java" \
  --strip-debug --no-header-files --no-man-pages \
  --exclude-files='**/libawt_xawt.so,**/libjawt.so,**/libjsound.so,**/libsplashscreen.so' 2>&1 \
  | { grep -v 'Using incubator modules' || true; } >&2

# The JVM flags of every start (the entrypoint reads this file: java @/opt/java/meshguard.jvmargs): the G1 collector
# by name (JVM ergonomics picks the single-threaded, stop-the-world Serial collector in a container below 1792 MB, as
# the shipped 1 GiB pods are, and every figure in docs/benchmarks.md was taken on G1), a heap that follows the
# container's memory limit, a clean exit on OutOfMemoryError so Kubernetes restarts the pod, and the native access
# and sun.misc.Unsafe use of Netty and protobuf allowed (JDK 24+ warns otherwise; JDK 21 knows only the
# --enable-native-access flag). The manifests' JAVA_TOOL_OPTIONS add to these.
major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$out/opt/java/release")
{
  echo "-XX:+UseG1GC"
  echo "-XX:MaxRAMPercentage=70"
  echo "-XX:+ExitOnOutOfMemoryError"
  echo "--enable-native-access=ALL-UNNAMED"
  [ "$major" -ge 24 ] && echo "--sun-misc-unsafe-memory-access=allow"
} > "$out/opt/java/meshguard.jvmargs"

# The shared libraries the JRE links against, checked rather than assumed: every NEEDED entry must be found in the
# JRE itself or in the packages below.
packages=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
             --no-enhances --no-pre-depends libc6 2>/dev/null | grep -v '^ ' | sort -u)
[ -n "$packages" ] || fail "apt-cache knows no libc6: run apt-get update first"

debs=$(dirname "$out")/image-debs
rm -rf "$debs"
mkdir -p "$debs"
download() { (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root $packages >/dev/null); }
if ! download; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && download || fail "apt-get download $packages failed"
  else
    fail "apt-get download $packages failed: run 'apt-get update' (as root) and build again"
  fi
fi

record=$(dirname "$out")/image-packages.tsv
printf 'package\tversion\tarchitecture\tsha256\n' > "$record"
mkdir -p "$out/var/lib/dpkg/status.d"
for deb in "$debs"/*.deb; do
  name=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -x "$deb" "$out"
  # The distroless convention (one control stanza per package): Trivy, Grype and Clair read it as the dpkg
  # database, so the bank's scanner matches these versions against the distribution's advisories.
  { dpkg-deb -f "$deb"; echo "Status: install ok installed"; } > "$out/var/lib/dpkg/status.d/$name"
  printf '%s\t%s\t%s\t%s\n' "$name" "$(dpkg-deb -f "$deb" Version)" "$(dpkg-deb -f "$deb" Architecture)" \
    "$(sha256sum "$deb" | cut -d' ' -f1)" >> "$record"
done

# Jib copies what a link points to, and an absolute link would point into the build host: make every link
# relative to the image root first (libc6 ships /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...).
find "$out" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$out$target")" "$link" ;;
  esac
done
# A link to a directory (a package's doc directory naming another package's) would be copied whole: drop it.
find "$out" -type l -xtype d -delete
find "$out" -type l ! -exec test -e {} \; -print | while read -r dangling; do
  fail "dangling link in the image: ${dangling#"$out"}"
done

missing=""
for lib in $(find "$out/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \)); do
  for needed in $(LC_ALL=C readelf -d "$lib" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [ -n "$(find "$out" -name "$needed" -print -quit)" ] || missing="$missing ${lib#"$out"}:$needed"
  done
done
[ -z "$missing" ] || fail "libraries the JRE needs that no package provides:$missing"

mkdir -p "$out/etc" "$out/tmp" "$out/var/spool/meshguard"
# A fixed numeric user (the manifests' runAsUser), named so the JVM's user.name and user.home resolve.
printf 'root:x:0:0:root:/root:/sbin/nologin\nmeshguard:x:10001:10001:meshguard:/tmp:/sbin/nologin\n' > "$out/etc/passwd"
printf 'root:x:0:\nmeshguard:x:10001:\n' > "$out/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$out/etc/nsswitch.conf"
# The distribution the libraries come from, so scanners match them against its advisories; PRETTY_NAME says that
# this is not a full install of it.
. /etc/os-release
{
  echo "PRETTY_NAME=\"meshguard (libraries from $PRETTY_NAME)\""
  echo "ID=$ID"
  echo "VERSION_ID=\"$VERSION_ID\""
  [ -n "${VERSION_CODENAME:-}" ] && echo "VERSION_CODENAME=$VERSION_CODENAME"
  echo "HOME_URL=\"$HOME_URL\""
} > "$out/etc/os-release"
[ "$ID" = debian ] && cp /etc/debian_version "$out/etc/debian_version" 2>/dev/null || true

echo "image-rootfs: $(grep "^JAVA_VERSION=" "$out/opt/java/release" | cut -d'"' -f2) ($modules);" \
  "$(tail -n +2 "$record" | cut -f1,2 | tr '\t' ' ' | paste -sd, -)" >&2
