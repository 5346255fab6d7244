#!/usr/bin/env bash
# Installs the Debian packages the tests need when any is missing: Chromium and Firefox ESR for the browser
# tests (PulseAudio gives Firefox a sound server and a virtual microphone), WebKitGTK's WebDriver under Xvfb for
# the capture path on WebKit, PocketSphinx and Flite for the local peer's recognition and voice, and the recorded
# speech, event sounds and tools (sox, espeak-ng) that the test audio is built from at test time, and the
# notification sounds of other desktops on which `scripts/train-vad.ts` validates the VAD's false alarms.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/firefox-esr ] || need+=(firefox-esr)
command -v pulseaudio >/dev/null || need+=(pulseaudio)
command -v pactl >/dev/null || need+=(pulseaudio-utils)
command -v WebKitWebDriver >/dev/null || need+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v sox >/dev/null || need+=(sox)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v flite >/dev/null || need+=(flite)
[ -f /usr/share/sounds/alsa/Front_Center.wav ] || need+=(alsa-utils)
[ -d /usr/share/klettres ] || need+=(klettres-data)
[ -d /usr/share/sounds/freedesktop/stereo ] || need+=(sound-theme-freedesktop)
# Other desktops' notification sounds: real non-speech that only the VAD's training script uses (validation).
[ -f /usr/share/sounds/Oxygen-Sys-Log-In.ogg ] || need+=(oxygen-sounds)
[ -d /usr/share/sounds/sound-icons ] || need+=(sound-icons)
[ -d /usr/share/sounds/Yaru/stereo ] || need+=(yaru-theme-sound)
[ -d /usr/share/sounds/deepin/stereo ] || need+=(deepin-sound-theme)
[ -d /usr/share/asterisk/sounds/en_US_f_Allison ] || need+=(asterisk-core-sounds-en-wav)
# The prompts' transcripts (core-sounds-en.txt.gz) ship in the base package.
[ -f /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz ] || need+=(asterisk-core-sounds-en)
[ -d /usr/share/pocketsphinx/model/en-us ] || need+=(pocketsphinx-en-us)
dpkg -s libpocketsphinx3 >/dev/null 2>&1 || need+=(libpocketsphinx3)
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
