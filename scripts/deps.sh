#!/bin/sh
# Installs the Debian packages Boxoffice needs, and only those that are missing,
# so `make run` on a fresh Debian 12 machine needs nothing done by hand.
set -e
BUILD="gcc make pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev libcurl4-openssl-dev libglib2.0-dev tzdata libhpdf-dev libqrencode-dev zlib1g-dev fonts-dejavu-core"
# clang and its runtimes (libFuzzer, sanitizers) build the fuzz targets (make fuzz)
TEST="python3 python3-pytest postgresql-15 postgresql-client-15 clang libclang-rt-dev poppler-utils zbar-tools"
# the local SMTP receiver of tests/http/test_mail.py and bench/mail.sh (for Debian's /usr/bin/python3)
TEST="$TEST python3-aiosmtpd"
# checks Fourvenues webhook signatures as a JavaScript receiver would (tests/http/fv_verify.js)
TEST="$TEST nodejs"
BENCH="wrk nginx-light"
want="$BUILD"
case "$1" in
  test) want="$BUILD $TEST" ;;
  bench) want="$BUILD $TEST $BENCH" ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
echo "installing:$missing" >&2
$SUDO apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
