#!/usr/bin/env bash
# Installs the Debian packages the tests need when any is missing: Chromium for the browser tests, and the
# recorded speech, event sounds and tools (sox, espeak-ng) that the test audio is built from at test time.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v sox >/dev/null || need+=(sox)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
[ -f /usr/share/sounds/alsa/Front_Center.wav ] || need+=(alsa-utils)
[ -d /usr/share/klettres ] || need+=(klettres-data)
[ -d /usr/share/sounds/freedesktop/stereo ] || need+=(sound-theme-freedesktop)
# sox reads the .ogg/.oga recordings through this format library.
dpkg -s libsox-fmt-all >/dev/null 2>&1 || need+=(libsox-fmt-all)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "installing Debian packages: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
