#!/usr/bin/env bash
# The README's set-up-and-demo command: installs the system packages, builds
# ocits, makes a busybox bundle locally (no network needed) and shows what the
# runtime does today.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-system-packages.sh
npm ci

bundle=$(mktemp -d /tmp/ocits-demo-XXXXXX)
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh ls cat echo id hostname ps sleep; do ln -s busybox "$bundle/rootfs/bin/$applet"; done

set -x
./bin/ocits --version
./bin/ocits spec --bundle "$bundle"
./bin/ocits validate --bundle "$bundle"
set +x
# No terminal, so the demo also works without one; a command of our own.
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo hello from $(hostname); id; ls /"]' \
  "$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
set -x
./bin/ocits run --bundle "$bundle" "demo-$$"
set +x
echo "demo bundle: $bundle (try: cd $bundle && $PWD/bin/ocits run demo, after setting process.terminal back to true)"
