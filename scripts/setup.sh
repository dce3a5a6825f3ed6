#!/usr/bin/env bash
# Installs the Debian 12 packages tgc needs, only those missing. Idempotent;
# silent when everything is already there.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ ccache python3 pkg-config
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
  libdnnl-dev libomp-19-dev libopenmpi-dev openmpi-bin
  libabsl-dev nlohmann-json3-dev libgtest-dev libgmock-dev zlib1g-dev libpng-dev
  libjpeg62-turbo-dev
  dataset-fashion-mnist doxygen
)
# Extra packages for a script's own needs (scripts/fuzz.sh: clang-19 ...).
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
