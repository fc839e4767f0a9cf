#!/usr/bin/env bash
# Install every Debian package that Tuilerie's build, tests and demo need, and
# the viewer's npm packages. Idempotent: running it again installs nothing new.
# The Dockerfile runs this same script, so it is the only install recipe.
set -euo pipefail

readonly packages=(
  # Toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  # Rendering and geodata
  libmapnik-dev mapnik-utils libvips-dev libgdal-dev gdal-bin libproj-dev libgeos-dev
  # Server, cache and encoding
  libboost-dev libboost-system-dev liblmdb-dev lmdb-utils libprotozero-dev
  libxxhash-dev zlib1g-dev libsqlite3-dev
  # Configuration, logging, command line, JSON
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  # Fuzzing: clang 14, and its runtime with libFuzzer and the sanitizers (scripts/run-fuzzers.sh)
  clang libclang-rt-14-dev
  # Tests and their real clients
  libgtest-dev libgmock-dev chromium imagemagick protobuf-compiler
  # PostGIS layers and edit notifications: libpq for the server, a throwaway PostgreSQL 15 with
  # PostGIS for the tests (scripts/test-postgres.sh), nginx as the caching proxy of the deployment test
  libpq-dev postgresql postgresql-15-postgis-3 nginx
  # Fonts named by the styles
  fonts-dejavu-core fonts-noto-core
)

# Only with --bench: the load generator, the peers of bench/ and the profilers.
readonly bench_packages=(
  wrk nginx apache2 libapache2-mod-tile renderd linux-perf valgrind hyperfine
)

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
  local package
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      echo "$package"
    fi
  done
  # Node.js and npm from Debian, unless a Node.js with npm is installed
  # already: Debian's npm package conflicts with other builds of nodejs.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo nodejs npm
  fi
}

install_debian_packages() {
  local missing
  missing=$(missing_packages)
  if [ -z "$missing" ]; then
    echo "install-deps: all Debian packages present"
    return
  fi
  echo "install-deps: installing" $missing
  # DPkg::Lock::Timeout makes apt wait for another apt run instead of failing.
  run_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
  # shellcheck disable=SC2086
  run_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -q --no-install-recommends $missing
}

install_npm_packages() {
  local root
  root=$(cd "$(dirname "$0")/.." && pwd)
  if [ -d "$root/web/node_modules/maplibre-gl" ] && [ -d "$root/tests/js/node_modules/@mapbox/vector-tile" ]; then
    echo "install-deps: npm packages present"
    return
  fi
  (cd "$root/web" && npm ci --no-audit --no-fund)
  (cd "$root/tests/js" && npm ci --no-audit --no-fund)
}

install_bench_packages() {
  local package missing=()
  for package in "${bench_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing for the benchmarks" "${missing[@]}"
    # Where an init system runs, Debian starts nginx, Apache and renderd after installing them. The
    # benchmarks start their own on 127.0.0.1 and use none of those.
    run_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    run_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
      install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "install-deps: all benchmark packages present"
  fi
  local root
  root=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -d "$root/bench/js/node_modules/geojson-vt" ]; then
    (cd "$root/bench/js" && npm ci --no-audit --no-fund)
  fi
}

install_debian_packages
install_npm_packages
if [ "${1:-}" = "--bench" ]; then
  install_bench_packages
fi
