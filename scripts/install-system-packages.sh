#!/usr/bin/env bash
# The Debian packages ocits needs to build, test and demo, installed with
# apt-get (root). Used by .ci/run and scripts/demo.sh.
#   libseccomp-dev  the addon links libseccomp
#   runc            the reference the tests and the conformance suite compare with
#   busybox-static  container root filesystems, built locally
#   jq              reading jest's JSON results in .ci/run
#   python3         the console-socket receiver in the terminal tests
#   containerd, podman  real engines driving ocits (test/engines.test.ts)
#   time            GNU time: peak RSS of each command in bench/
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq libseccomp-dev runc busybox-static jq python3 containerd podman time >/dev/null
