#!/bin/bash
# The read path against the wire: for each reply measured, the server's exact
# bytes are saved to a file that nginx serves (same size, Content-Type
# application/json), and wrk (-t2 -c64, 10 s) runs on both in the same run.
# Prints req/s, p99 and our req/s as a share of nginx's for:
#   1. the 30-day availability of the demo Adult product (240 timeslots)
#   2. its 1-day availability
#   3. the Convious product list
#   4. the Ticket Tailor events list
# then the 30-day availability's latency while a flash sale (64 clients,
# build/bench/http-flash-sale) books the same product: paced at 200 reads/s
# by build/bench/http-get, latency from each read's scheduled time, so the
# sale, not the readers, fills the machine. (`make bench` builds both.)
# Loopback only, bounded in time (about 2 minutes), stops by itself.
# Ticket Tailor's rate limit is raised out of the way (every request would be 429 after
# 2,000). BENCH_PORT picks the port (default 18463; nginx gets the one below);
# BENCH_BIN the server (default build/boxoffice); BENCH_SECONDS wrk's run.
set -u
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/boxoffice-readbench.XXXXXX)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=${BENCH_PORT:-18463}; NGINX_PORT=$((PORT - 1))
SECS=${BENCH_SECONDS:-10}
DB="sqlite:$WORK/bench.db"
B=${BENCH_BIN:-build/boxoffice}
for tool in wrk nginx curl python3 build/bench/http-flash-sale build/bench/http-get; do
    command -v $tool >/dev/null || { echo "http-read: $tool is not there (make bench)"; exit 1; }
done
$B migrate --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B demo --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B serve --db "$DB" --key-file "$WORK/key" --listen 127.0.0.1:$PORT --rate-limit 100000000 ${BENCH_SERVE_ARGS:-} --no-access-log \
    >"$WORK/server.log" 2>&1 &
SERVER=$!
. bench/nginx.sh
nginx_start "$WORK" $NGINX_PORT || exit 1
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT
TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=demo-client -d client_secret=demo-secret \
        $URL/convious/oauth/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
CV_AUTH="Authorization: Bearer $TOKEN"
TT_AUTH="Authorization: Basic $(printf 'sk_demo_tickettailor:' | base64)"
ADULT=d0000000-0000-4000-8000-000000000005
DAY=$(date -d tomorrow +%F); NEXT=$(date -d '+2 days' +%F); END=$(date -d '+31 days' +%F)
AVAIL30="/convious/api/v1/products/$ADULT/availability/?date_from=$DAY&date_to=$END"

# wrk's figures: "req/s p99_ms non_2xx requests"
wrk_run() {
    local conns=$1; shift
    timeout $((SECS + 20)) wrk -t2 -c"$conns" -d"${SECS}s" --latency "$@" 2>&1 | tee -a "$WORK/wrk.log" |
        awk '/Requests\/sec/{rps=$2} /^ +99%/{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v} /Non-2xx/{bad=$NF} / requests in /{n=$1} END{printf "%s %s %s %s\n", rps, p99, bad+0, n+0}'
}
# the server's CPU ticks (user + system, every thread, dead ones included):
# CPU per reply is what other load on a shared machine disturbs least
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# nginx's, over its master and workers
nginx_ticks() {
    local master; master=$(cat "$WORK/nginx.pid")
    cat "/proc/$master/stat" $(pgrep -P "$master" | sed 's|.*|/proc/&/stat|') 2>/dev/null | awk '{t += $14 + $15} END{print t}'
}

echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t2 -c64 ${SECS}s each"
# ratio: our req/s over nginx's. CPU us/req: the server's CPU per reply, then
# nginx's, and nginx's over ours: on a busy machine 64 server threads win
# more of the CPU than nginx's 2 workers, which flatters the req/s ratio;
# the CPU ratio is the one other load hardly moves.
printf '%-22s %6s %10s %7s %11s %9s %6s %13s %6s\n' reply bytes "ours req/s" "p99 ms" "nginx req/s" "nginx p99" ratio "CPU us/req" "CPU"
measure() {
    local name=$1 auth=$2 path=$3
    local status
    status=$(curl -s -o "$WORK/www/$name.json" -w '%{http_code}' -H "$auth" "$URL$path")
    if [ "$status" != 200 ]; then echo "$name: status $status"; return; fi
    local bytes t0 t1
    bytes=$(stat -c %s "$WORK/www/$name.json")
    t0=$(ticks)
    read -r o_rps o_p99 o_bad o_n <<<"$(wrk_run 64 -H "$auth" "$URL$path")"
    t1=$(ticks)
    local n0 n1
    n0=$(nginx_ticks)
    read -r n_rps n_p99 _ n_n <<<"$(wrk_run 64 "http://127.0.0.1:$NGINX_PORT/$name.json")"
    n1=$(nginx_ticks)
    python3 - "$name" "$bytes" "$o_rps" "$o_p99" "$n_rps" "$n_p99" "$o_bad" "$t0" "$t1" "$o_n" "$n0" "$n1" "$n_n" <<'PY'
import os, sys
a = sys.argv[1:]
hz = os.sysconf('SC_CLK_TCK')
ours = (int(a[8]) - int(a[7])) / hz * 1e6 / max(int(a[9]), 1)
theirs = (int(a[11]) - int(a[10])) / hz * 1e6 / max(int(a[12]), 1)
print('%-22s %6s %10.0f %7.2f %11.0f %9.2f %5.1f%% %6.0f / %-6.0f %5.1f%%%s' % (
    a[0], a[1], float(a[2]), float(a[3]), float(a[4]), float(a[5]), 100 * float(a[2]) / max(float(a[4]), 1),
    ours, theirs, 100 * theirs / max(ours, 1e-9), '' if a[6] == '0' else '  (%s non-2xx!)' % a[6]))
PY
}
measure availability-30-days "$CV_AUTH" "$AVAIL30"
measure availability-1-day "$CV_AUTH" "/convious/api/v1/products/$ADULT/availability/?date_from=$DAY&date_to=$NEXT"
measure convious-products "$CV_AUTH" "/convious/api/v1/products/"
measure tickettailor-events "$TT_AUTH" "/tickettailor/v1/events"

echo "--- 30-day availability of Adult while a flash sale books Adult's 09:00 slot tomorrow (64 clients) ---"
# the sale must outlast the measurement: the demo pool's 100 seats become 1,000,000
curl -s -o /dev/null -X PATCH -H "Authorization: Bearer demo-admin-token" -H "Content-Type: application/json" \
    -d '{"capacity":1000000}' "$URL/admin/v1/pools/d0000000-0000-4000-8000-000000000004"
timeout $((SECS + 30)) build/bench/http-flash-sale --port $PORT --token "$TOKEN" --category d0000000-0000-4000-8000-000000000003 \
    --product $ADULT --date "$DAY" --time 09:00:00 --clients 64 --seconds $((SECS + 2)) >"$WORK/fs.out" 2>&1 &
SALE=$!
sleep 1
timeout $((SECS + 20)) build/bench/http-get --port $PORT --path "$AVAIL30" --header "$CV_AUTH" --clients 4 --rate 200 \
    --seconds $SECS >"$WORK/get.out" 2>&1
wait $SALE
sed 's/^/  /' "$WORK/fs.out"
echo "  30-day availability during the sale (target p99 < 20 ms):"
sed 's/^/  /' "$WORK/get.out"
