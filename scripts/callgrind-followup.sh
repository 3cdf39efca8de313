#!/usr/bin/env bash
# Counts the instructions `tooltape serve` spends in its request handler per request of one of
# the benchmark's two scenarios (scripts/bench.py), sent N times over one keep-alive connection
# under callgrind:
#   followup  the second request of the 4-call Anthropic cassette (the judged follow-up);
#   stream    the first request of the streamed 2-call OpenAI cassette (its 14 recorded frames
#             go out as recorded).
# Instruction counts do not depend on what else the machine runs, so two builds compare even
# on a loaded machine.
#
#   scripts/callgrind-followup.sh [N] [followup|stream]   (defaults 500, followup; needs valgrind)
#
# Prints instructions per request in `Replay::handle_model_routed` and its callees, then the
# top of the inclusive profile; the raw profile stays in target/callgrind-SCENARIO.out.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
scenario=${2:-followup}
case "$scenario" in
    followup) cassette=fixtures/anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json turn=1 path=/v1/messages ;;
    stream) cassette=fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json turn=0 path=/v1/chat/completions ;;
    *) echo "callgrind-followup: the scenario is followup or stream, not '$scenario'" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "callgrind-followup: valgrind is not installed" >&2; exit 2; }
cargo build --release --bin tooltape >&2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=target/callgrind-$scenario.out
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*handle_model_routed*' \
    target/release/tooltape serve "$cassette" --port "$port" >/dev/null 2>target/callgrind-$scenario.log &
server=$!
python3 - "$port" "$n" "$cassette" "$turn" "$path" <<'PY'
import http.client, json, socket, sys, time
port, n, cassette, turn, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
body = json.dumps(json.load(open(cassette))["interactions"][turn]["request"]["body"]).encode()
headers = {"content-type": "application/json"}
if path == "/v1/messages":
    headers.update({"x-api-key": "bench", "anthropic-version": "2023-06-01"})
else:
    headers["authorization"] = "Bearer bench"
deadline = time.time() + 120
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("callgrind-followup: the server did not listen within 120 s")
        time.sleep(0.5)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(n):
    conn.request("POST", path, body=body, headers=headers)
    reply = conn.getresponse()
    data = reply.read()
    if reply.status != 200:
        sys.exit(f"callgrind-followup: status {reply.status}: {data[:300]!r}")
PY
kill -INT "$server"
wait "$server" || true
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$((total / n)) instructions per $scenario request in the request handler ($n requests)"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | grep tooltape:: | head -15
