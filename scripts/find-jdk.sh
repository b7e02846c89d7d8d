# Sourced by ./mvnw, ./meshguard and .ci/run: exports JAVA_HOME pointing at a JDK >= 21 and MESHGUARD_JAVA_MAJOR
# (its feature version, e.g. 25).
# Order: $JAVA_HOME, the java on PATH, then the usual install places (Debian/Ubuntu, SDKMAN, macOS).
# POSIX sh, because ./mvnw is.

# $1 is a java binary. A JDK's release file names its version, and reading it costs no JVM start (a start is most of
# what a short command takes); the JVM itself answers only where there is no release file.
meshguard_java_major() {
  release="$(dirname "$(dirname "$1")")/release"
  if [ -f "$release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" | head -n 1
    return
  fi
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = //p' | head -n 1 | cut -d. -f1
}

meshguard_find_jdk() {
  for candidate in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v javac 2>/dev/null || echo /nonexistent)")")")" \
      /usr/lib/jvm/* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home /opt/java/* /opt/jdk*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(meshguard_java_major "$candidate/bin/java")
    case "$major" in ''|*[!0-9]*) continue ;; esac
    if [ "$major" -ge 21 ]; then
      JAVA_HOME=$candidate
      MESHGUARD_JAVA_MAJOR=$major
      export JAVA_HOME MESHGUARD_JAVA_MAJOR
      return 0
    fi
  done
  echo "meshguard: no JDK 21 or newer found (looked at \$JAVA_HOME, javac on PATH, /usr/lib/jvm, ~/.sdkman, /Library/Java)." >&2
  echo "meshguard: install one (e.g. 'apt-get install openjdk-21-jdk' or Temurin 21) or set JAVA_HOME to it." >&2
  return 1
}
