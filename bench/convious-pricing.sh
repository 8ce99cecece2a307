#!/bin/bash
# The Convious pricing API's two hot paths (issue 14), on SQLite, loopback only,
# bounded in time (about 7 minutes), stops by itself:
#  1. rtp: POST /convious-pricing/api/price/rtp for 30 days x 9 times (09:00-17:00)
#     x the demo's Adult and Child products, both dynamically priced: at full
#     load (BENCH_CLIENTS clients, default 8), then paced at 1,000 requests/s
#     (latency from each request's scheduled time); beside it wrk on nginx
#     serving the same reply's bytes as a static file (same connections, same
#     time). Target: >= 1,000 req/s with p99 < 25 ms.
#  2. analytics ingest: POST /convious-pricing/events, batches of 50 browser
#     events (no bearer, accountId demo) at full load, then a paced booking load
#     (build/bench/http-flash-sale --rate, 100 bookings/s on the demo Adult
#     09:00 slot tomorrow) alone and again while ingest runs paced at 10,000
#     events/s, in rounds (judged on their medians); then both interleaved in
#     one run (below). Target: >= 10,000 events/s; booking p99 moves < 20%.
# All requests come from 127.0.0.1, so the per-network analytics limit (6,000
# events a minute from one /24 by default) is raised with --analytics-per-ip;
# each bench visitor (cookieId) sends one batch of 50, under the per-cookie
# limit (600 a minute), which stays at its default. Beside each run: the server's CPU per request
# (user + system, every thread, from /proc/PID/stat), which other load on a
# shared machine disturbs less than requests/s; and the load average.
# BENCH_PORT picks the port (default 18471; nginx gets the one below); BENCH_BIN
# the server (default build/boxoffice); BENCH_SECONDS each run (default 10); BENCH_ONLY=rtp stops
# after the two rtp runs (to compare two builds' rtp, alternating, without the rest); BENCH_ONLY=booking runs
# only the bookings alone and beside paced ingest (to compare two builds' booking p99 the same way),
# BENCH_ROUNDS times each, alternating (default 3), then interleaved; BENCH_ONLY=interleaved only the
# interleaved run: BENCH_INTERLEAVED_SECONDS (default 120) of paced bookings while ingest runs in every
# other BENCH_PHASE seconds (default 10), each booking's latency sorted into its phase. It separates what
# ingest does at the moment it runs (CPU, the writer, the bookings' fsyncs) from what it does later
# (the kernel writes what it left dirty back up to ~35 s later, in either phase): the rounds, with
# BENCH_SETTLE seconds (default 35) before each "alone" run and their bookings pooled, judge the
# target; the interleaved run says which kind the move is (docs/PERFORMANCE.md).
set -u
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/boxoffice-cpbench.XXXXXX)
SERVER=
cleanup() {
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=${BENCH_PORT:-18471}; NGINX_PORT=$((PORT - 1))
SECS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-8}
DB="sqlite:$WORK/bench.db"
B=${BENCH_BIN:-build/boxoffice}
CP=build/bench/convious-pricing
for tool in wrk nginx curl python3 $B $CP build/bench/http-flash-sale; do
    command -v $tool >/dev/null || { echo "convious-pricing: $tool is not there (make bench)"; exit 1; }
done
$B migrate --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B demo --db "$DB" --key-file "$WORK/key" >/dev/null 2>&1
$B serve --db "$DB" --key-file "$WORK/key" --listen 127.0.0.1:$PORT --analytics-per-ip 100000000 \
    ${BENCH_SERVE_ARGS:-} --no-access-log >"$WORK/server.log" 2>&1 &
SERVER=$!
. bench/nginx.sh
nginx_start "$WORK" $NGINX_PORT || exit 1
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT
ADMIN=(-s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer demo-admin-token" -H "Content-Type: application/json")
ADULT=d0000000-0000-4000-8000-000000000005
CHILD=d0000000-0000-4000-8000-000000000006
for p in $ADULT $CHILD; do
    st=$(curl "${ADMIN[@]}" -X PUT -d '{"dynamic":true,"min_price":1000,"max_price":3000,"step":50,"gate_price":2000}' \
         "$URL/admin/v1/pricing/products/$p/settings")
    [ "$st" = 200 ] || { echo "dynamic pricing for $p: status $st"; exit 1; }
    curl "${ADMIN[@]}" -X POST "$URL/admin/v1/pricing/products/$p/recompute" >/dev/null
done
TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=demo-client -d client_secret=demo-secret \
        $URL/convious-pricing/oauth/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# the analytics writer thread's ticks (it writes the queued batches: core/analytics.c)
writer_ticks() {
    for t in /proc/$SERVER/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = bo-analytics ] && awk '{print $14 + $15}' "$t/stat" && return
    done
    echo 0
}
nginx_ticks() {
    local master; master=$(cat "$WORK/nginx.pid")
    cat "/proc/$master/stat" $(pgrep -P "$master" | sed 's|.*|/proc/&/stat|') 2>/dev/null | awk '{t += $14 + $15} END{print t}'
}
# per_req T0 T1 N WHAT: the CPU time between two tick counts per request
per_req() {
    python3 -c "import os,sys; t=(int(sys.argv[2])-int(sys.argv[1]))/os.sysconf('SC_CLK_TCK'); n=int(sys.argv[3]); print('  %s CPU %.0f us per %s' % (sys.argv[5], t*1e6/max(n,1), sys.argv[4]))" "$@"
}
replies() { awk '/replies|batches|bookings in/{for (i = 1; i <= NF; i++) if ($(i+1) ~ /^(replies|batches|bookings)$/) print $i}' "$1"; }
load() { echo "  load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); each run ${SECS} s"
EV=(events --port $PORT --account demo --batch 50)
if [ "${BENCH_ONLY:-}" != booking ] && [ "${BENCH_ONLY:-}" != interleaved ]; then
RTP=(rtp --port $PORT --token "$TOKEN" --products "$ADULT,$CHILD" --days 30)
# the reply nginx serves: the same bytes the server sends
$CP "${RTP[@]}" --clients 1 --requests 1 >/dev/null || { echo "rtp failed"; exit 1; }
curl -s -o "$WORK/www/rtp.json" -H "Accept-Version: 1.0.0" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" -d "{\"cookieId\":\"bench\",\"dateFrom\":\"$(date -u -d tomorrow +%F)\",
    \"dateTo\":\"$(date -u -d '+30 days' +%F)\",\"timezone\":\"Europe/Amsterdam\",\"times\":[\"09:00:00\",\"10:00:00\",
    \"11:00:00\",\"12:00:00\",\"13:00:00\",\"14:00:00\",\"15:00:00\",\"16:00:00\",\"17:00:00\"],
    \"products\":[{\"productReference\":\"$ADULT\",\"numberOfItems\":1},{\"productReference\":\"$CHILD\",\"numberOfItems\":1}]}" \
    "$URL/convious-pricing/api/price/rtp"
echo "--- rtp: 30 days x 9 times x 2 dynamic products, $CLIENTS clients at full load ($(stat -c %s "$WORK/www/rtp.json") bytes a reply) ---"
T0=$(ticks)
timeout $((SECS + 20)) $CP "${RTP[@]}" --clients $CLIENTS --seconds $SECS | tee "$WORK/rtp.out"
per_req "$T0" "$(ticks)" "$(replies "$WORK/rtp.out")" "rtp reply" server
load
echo "--- rtp paced at 1,000 requests/s (latency from each request's scheduled time) ---"
T0=$(ticks)
timeout $((SECS + 20)) $CP "${RTP[@]}" --clients 32 --rate 1000 --seconds $SECS | tee "$WORK/rtp-paced.out"
per_req "$T0" "$(ticks)" "$(replies "$WORK/rtp-paced.out")" "rtp reply" server
load
[ "${BENCH_ONLY:-}" = rtp ] && exit 0
echo "--- nginx serving the same reply as a static file: wrk -t2 -c$CLIENTS ---"
N0=$(nginx_ticks)
timeout $((SECS + 20)) wrk -t2 -c$CLIENTS -d${SECS}s --latency "http://127.0.0.1:$NGINX_PORT/rtp.json" >"$WORK/wrk.out" 2>&1
N1=$(nginx_ticks)
awk '/Requests\/sec/{print "  requests/s   " $2} /^ +50%/{print "  latency p50  " $2} /^ +99%/{print "  latency p99  " $2}' \
    "$WORK/wrk.out"
per_req "$N0" "$N1" "$(awk '/ requests in /{print $1}' "$WORK/wrk.out")" "reply" nginx
python3 - "$(awk '/requests\/s/{print $2}' "$WORK/rtp.out")" "$(awk '/Requests\/sec/{print $2}' "$WORK/wrk.out")" <<'PY'
import sys
ours, nginx = float(sys.argv[1]), float(sys.argv[2])
print("  rtp req/s as a share of nginx's: %.1f%%" % (100 * ours / max(nginx, 1)))
PY

echo "--- analytics ingest: batches of 50 browser events, $CLIENTS clients at full load ---"
T0=$(ticks); W0=$(writer_ticks)
timeout $((SECS + 20)) $CP "${EV[@]}" --clients $CLIENTS --seconds $SECS | tee "$WORK/ev.out"
sleep 0.5 # the queue's last write
per_req "$T0" "$(ticks)" "$(( $(replies "$WORK/ev.out") * 50 ))" "event" server
per_req "$W0" "$(writer_ticks)" "$(replies "$WORK/ev.out")" "batch of 50" "analytics writer thread"
load
fi
# the booking load must outlast the runs: the demo pool's 100 seats become 1,000,000
curl "${ADMIN[@]}" -X PATCH -d '{"capacity":1000000}' "$URL/admin/v1/pools/d0000000-0000-4000-8000-000000000004" >/dev/null
CV_TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=demo-client -d client_secret=demo-secret \
        $URL/convious/oauth/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# booking NAME: one paced run, each booking's latency kept in $WORK/lat-NAME.txt
booking() {
    timeout $((SECS + 30)) build/bench/http-flash-sale --port $PORT --token "$CV_TOKEN" \
        --category d0000000-0000-4000-8000-000000000003 --product $ADULT --date "$(date -d tomorrow +%F)" \
        --time 09:00:00 --clients 8 --rate 100 --seconds $SECS --latencies "$WORK/lat-$1.txt"
}
# alone and beside ingest alternate BENCH_ROUNDS times (default 3): one p99 of
# a few thousand bookings on a shared 2-core machine moves by tens of percent
# from run to run by itself (mostly the runs alone), so the target is judged
# on the p99 of all rounds' bookings pooled; the median of the rounds' own
# p99s is printed beside it
ROUNDS=${BENCH_ROUNDS:-3}
[ "${BENCH_ONLY:-}" = interleaved ] && ROUNDS=0
ALONE=() BESIDE=()
# SETTLE seconds between a round's ingest and the next round's bookings alone: what
# ingest left dirty in the page cache reaches the disk up to the kernel's dirty
# expiry (30 s) plus a flusher interval (5 s) later, inside the next "alone" run
SETTLE=${BENCH_SETTLE:-35}
for round in $(seq "$ROUNDS"); do
    [ "$round" -gt 1 ] && sleep "$SETTLE"
    echo "--- round $round of $ROUNDS: bookings paced at 100/s (cart + booking, 8 clients), alone ---"
    booking "$round-alone" | tee "$WORK/book-alone.out"
    load
    echo "--- round $round of $ROUNDS: bookings paced at 100/s while ingest runs paced at 10,000 events/s (200 batches of 50 a second) ---"
    T0=$(ticks); W0=$(writer_ticks)
    timeout $((SECS + 30)) $CP "${EV[@]}" --clients 8 --rate 200 --seconds $((SECS + 1)) >"$WORK/ev-paced.out" 2>&1 &
    INGEST=$!
    sleep 0.5
    booking "$round-beside" | tee "$WORK/book-ingest.out"
    wait $INGEST; [ $? -le 1 ] || { echo "round $round: the ingest client did not run:"; cat "$WORK/ev-paced.out"; exit 1; }
    sleep 0.5
    sed 's/^/  ingest: /' "$WORK/ev-paced.out"
    per_req "$T0" "$(ticks)" "$(( $(replies "$WORK/ev-paced.out") * 50 ))" "event (bookings' share included)" "  server"
    per_req "$W0" "$(writer_ticks)" "$(replies "$WORK/ev-paced.out")" "batch of 50" "  analytics writer thread"
    load
    ALONE+=("$(awk '/latency p99/{print $3}' "$WORK/book-alone.out")")
    BESIDE+=("$(awk '/latency p99/{print $3}' "$WORK/book-ingest.out")")
done
[ "$ROUNDS" -gt 0 ] && python3 - "$WORK" "$ROUNDS" "${ALONE[*]}" "${BESIDE[*]}" <<'PY'
import statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
alone, beside = ([float(x) for x in a.split()] for a in sys.argv[3:5])
for i, (a, b) in enumerate(zip(alone, beside), 1):
    print("round %d: booking p99 %.2f ms alone, %.2f ms beside ingest: %+.0f%%" % (i, a, b, 100 * (b - a) / max(a, 1e-9)))
a, b = statistics.median(alone), statistics.median(beside)
print("booking p99 %.2f ms alone, %.2f ms beside ingest (medians of %d rounds): %+.0f%%" % (
    a, b, len(alone), 100 * (b - a) / max(a, 1e-9)))
def pooled(kind):
    v = sorted(float(line.split()[1]) for r in range(1, rounds + 1) for line in open("%s/lat-%d-%s.txt" % (work, r, kind)))
    return v[min(len(v) - 1, int(len(v) * 0.99))], len(v)
(a, na), (b, nb) = pooled("alone"), pooled("beside")
print("booking p99 %.2f ms alone (%d bookings), %.2f ms beside ingest (%d), all rounds pooled: %+.0f%% (target < 20%%)" % (
    a, na, b, nb, 100 * (b - a) / max(a, 1e-9)))
PY
# Interleaved: one paced booking run while ingest runs in every other PHASE
# seconds (both clients take the phases from the wall clock). A booking due in
# an on phase, from its second second, counts beside ingest; one due in an off
# phase counts alone only from its seventh second: the queue's last flush (up to
# a second) and the log's held members (up to 5 s) come after the last event.
PHASE=${BENCH_PHASE:-10}
ISECS=${BENCH_INTERLEAVED_SECONDS:-120}
echo "--- interleaved: bookings paced at 100/s for $ISECS s; ingest at 10,000 events/s in every other $PHASE s ---"
timeout $((ISECS + 30)) $CP "${EV[@]}" --clients 8 --rate 200 --duty "$PHASE" --seconds $((ISECS + 1)) \
    >"$WORK/ev-duty.out" 2>&1 &
INGEST=$!
sleep 0.5
timeout $((ISECS + 30)) build/bench/http-flash-sale --port $PORT --token "$CV_TOKEN" \
    --category d0000000-0000-4000-8000-000000000003 --product $ADULT --date "$(date -d tomorrow +%F)" \
    --time 09:00:00 --clients 8 --rate 100 --seconds "$ISECS" --latencies "$WORK/lat.txt" >/dev/null
# an ingest client that did not run (status 2: usage; 124: timeout) would make the phases alike: say so,
# loudly; status 1 only counts failed requests, printed below
wait $INGEST; [ $? -le 1 ] || { echo "interleaved: the ingest client did not run:"; cat "$WORK/ev-duty.out"; exit 1; }
grep -E "failed|events/s|^status" "$WORK/ev-duty.out" | sed 's/^/  ingest (on half the time): /'
python3 - "$WORK/lat.txt" "$PHASE" <<'PY'
import random, sys
phase = float(sys.argv[2])
# each phase's bookings apart: slow bookings come in bursts (a checkpoint, the kernel's writeback), so the
# uncertainty of a p99 is that of the phases it was drawn from, resampled whole (a block bootstrap)
alone, beside = {}, {}
for line in open(sys.argv[1]):
    due, ms = (float(x) for x in line.split())
    k, into = divmod(due / 1e3, phase)
    if int(k) % 2 == 0 and into >= 1:
        beside.setdefault(int(k), []).append(ms)
    elif int(k) % 2 == 1 and into >= 6:
        alone.setdefault(int(k), []).append(ms)
def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")
def pooled(phases):
    return [ms for p in phases for ms in p]
a_all, b_all = pooled(alone.values()), pooled(beside.values())
a, b = pct(a_all, 0.99), pct(b_all, 0.99)
print("  alone:  %5d bookings, p50 %.2f ms, p99 %.2f ms" % (len(a_all), pct(a_all, 0.5), a))
print("  beside: %5d bookings, p50 %.2f ms, p99 %.2f ms" % (len(b_all), pct(b_all, 0.5), b))
rng, moves = random.Random(1), []
al, bl = list(alone.values()), list(beside.values())
for _ in range(1000 if al and bl else 0):
    ra = pct(pooled(rng.choice(al) for _ in al), 0.99)
    rb = pct(pooled(rng.choice(bl) for _ in bl), 0.99)
    moves.append(100 * (rb - ra) / max(ra, 1e-9))
moves.sort()
ci = "95%% interval %+.0f%% to %+.0f%% over %d and %d phases" % (
    moves[25], moves[974], len(al), len(bl)) if moves else "no interval"
print("booking p99 %.2f ms in the off phases, %.2f ms in the on phases: %+.0f%% (%s; what ingest does while it"
      " runs; the target is judged on the rounds)" % (a, b, 100 * (b - a) / max(a, 1e-9), ci))
PY
