#!/usr/bin/env bash
# The README's set-up-and-demo command: installs the system packages, builds
# ocits, then with ocits alone and no network: builds an image from a
# Dockerfile (FROM scratch with the static busybox), serves a second store
# as a registry, pushes the image there, removes it, pulls it back, bundles
# it and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-system-packages.sh
npm ci

work=$(mktemp -d /tmp/ocits-demo-XXXXXX)
server=
stop_server() { [ -z "$server" ] || kill "$server" 2>/dev/null || true; }
trap stop_server EXIT
mkdir "$work/context"
cp /bin/busybox "$work/context/busybox"
cat > "$work/context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV GREETING="hello from an image ocits built, pushed and pulled"
CMD ["sh", "-c", "echo $GREETING on $(hostname); id; ls /"]
DOCKERFILE

# The registry: another store, served on a free port of 127.0.0.1; its first line says where.
./bin/ocits registry serve --store "$work/registry" --listen 127.0.0.1:0 > "$work/registry.log" &
server=$!
until [ -s "$work/registry.log" ]; do sleep 0.1; done
address=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/registry.log" | head -1)
image="$address/demo/hello:1"

set -x
./bin/ocits --version
./bin/ocits build --store "$work/store" -t "$image" "$work/context"
./bin/ocits push --store "$work/store" --tls-verify=false "$image"
./bin/ocits rmi --store "$work/store" "$image"
./bin/ocits pull --store "$work/store" --tls-verify=false "$image"
./bin/ocits bundle --store "$work/store" "$image" "$work/bundle"
./bin/ocits run --bundle "$work/bundle" "demo-$$"
set +x
echo "demo store and bundle: $work (try: $PWD/bin/ocits run --bundle $work/bundle demo)"
