#!/usr/bin/env bash
# The Debian packages ocits needs to build, test and demo, installed with
# apt-get (root). Used by .ci/run and scripts/demo.sh.
#   libseccomp-dev  the addon links libseccomp
#   libsystemd-dev  the addon links libsystemd's sd-bus (the systemd cgroup driver)
#   runc            the reference the tests and the conformance suite compare with
#   busybox-static  container root filesystems, built locally
#   jq              reading jest's JSON results in .ci/run
#   python3         the console-socket receiver in the terminal tests
#   containerd, podman  real engines driving ocits (test/integration/engines.test.ts)
#   docker-registry     the real registry the image tests pull from (../shared/tools/images)
#   apache2-utils, openssl, curl  its htpasswd and token auth modes, and its readiness check
#   skopeo, umoci       build the test image corpus and check the store and bundles against
#   debootstrap, attr   the corpus's Debian image and its xattrs; getfattr reads a build step's xattrs
#   zstd                decompresses zstd image layers (ocits bundle) and compresses them (ocits build --compress zstd)
#   bzip2, xz-utils     decompress the bzip2 and xz archives ocits build's ADD extracts
#   buildah             the oracle bench/build.js holds ocits build against (the test compares with podman build)
#   time                GNU time: peak RSS of each command in bench/
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq libseccomp-dev libsystemd-dev runc busybox-static jq python3 containerd podman \
  docker-registry apache2-utils openssl curl skopeo umoci debootstrap attr zstd bzip2 xz-utils time buildah >/dev/null
