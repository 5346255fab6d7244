#!/usr/bin/env bash
# After `npm install` (or `npm ci`), package.json and package-lock.json must still be what the checkout committed:
# an install that rewrites them means the committed lockfile is incomplete (for example missing another
# platform's optional packages), and `npm ci` on a CI machine would refuse it. Outside a git checkout (an
# unpacked tarball) there is nothing to compare with, so the check is skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-lockfile: not a git checkout, skipped"
  exit 0
fi
if ! git diff --exit-code --stat -- package.json package-lock.json; then
  echo "check-lockfile: the install changed package.json or package-lock.json (above)." >&2
  echo "Commit a complete lockfile (npm install, then commit both files) so that npm ci accepts it." >&2
  exit 1
fi
