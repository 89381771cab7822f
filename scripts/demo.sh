#!/usr/bin/env bash
# The README's set-up-and-demo command: installs the system packages, builds
# ocits, builds an image from a Dockerfile (FROM scratch with the static
# busybox, no network needed), bundles it and runs it, all with ocits.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-system-packages.sh
npm ci

work=$(mktemp -d /tmp/ocits-demo-XXXXXX)
mkdir "$work/context"
cp /bin/busybox "$work/context/busybox"
cat > "$work/context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV GREETING="hello from an image ocits built"
CMD ["sh", "-c", "echo $GREETING on $(hostname); id; ls /"]
DOCKERFILE

set -x
./bin/ocits --version
./bin/ocits build --store "$work/store" -t localhost/demo:latest "$work/context"
./bin/ocits images --store "$work/store"
./bin/ocits bundle --store "$work/store" localhost/demo:latest "$work/bundle"
./bin/ocits run --bundle "$work/bundle" "demo-$$"
set +x
echo "demo store and bundle: $work (try: $PWD/bin/ocits run --bundle $work/bundle demo)"
