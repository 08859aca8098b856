#!/usr/bin/env bash
# Installs the Debian packages shmbus needs, only those missing. Safe to re-run.
# ninja-build and ccache make rebuilds fast (scripts/build.sh uses them); jq is for
# bench/run_comparison.sh; clang with its runtime builds the libFuzzer targets; pybind11,
# numpy, pandas and pytest are for the Python module (built for Debian's /usr/bin/python3);
# libnats-dev and nats-server are for the NATS bridge.
set -euo pipefail
PKGS=(build-essential cmake pkg-config ninja-build ccache jq libboost-dev libspdlog-dev
      libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
      prometheus-cpp-dev libzmq3-dev gnuplot-nox tmux clang-format curl procps
      clang libclang-rt-14-dev pybind11-dev python3-dev python3-numpy python3-pandas
      python3-pytest python3-zmq python3-pip python3-setuptools python3-venv libnats-dev
      nats-server util-linux)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
