#!/usr/bin/env bash
# newsalert demo: NATS → rules → alerts, on the example config.
#
# 1. uses the NATS server at $NATS_URL (default nats://127.0.0.1:4222) if one
#    answers, otherwise starts the pinned one from .tools/ on a scratch store;
# 2. runs `newsalert run` on config/ (no Telegram token, no SMTP host: alerts
#    are printed as JSON lines by the console notifier);
# 3. publishes config/examples/articles.jsonl (ids made unique per run, so the
#    demo can be repeated) and one invalid event, which is dead-lettered;
# 4. shows the alerts, then stops everything it started.
# Demo streams are NEWSALERT_DEMO, NEWSALERT_DEMO_ALERTS, NEWSALERT_DEMO_DLQ, so an existing
# ARTICLES stream on your server is left alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
NATS_SERVER_BIN="${NATS_SERVER_BIN:-$PWD/.tools/bin/nats-server}"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

hostport="${NATS_URL#*://}"; hostport="${hostport##*@}"
host="${hostport%:*}"; port="${hostport##*:}"
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "== using the NATS server at $NATS_URL"
else
    echo "== no NATS at $NATS_URL: starting $NATS_SERVER_BIN (JetStream, store in $work/nats)"
    "$NATS_SERVER_BIN" -a 127.0.0.1 -p "$port" -js -sd "$work/nats" >"$work/nats.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
fi

echo "== building newsalert"
cargo build --quiet
bin="$PWD/target/debug/newsalert"

export NEWSALERT__NATS__URL="$NATS_URL"
export NEWSALERT__NATS__STREAM=NEWSALERT_DEMO
export NEWSALERT__NATS__SUBJECTS="demo.articles.>"
export NEWSALERT__NATS__CONSUMER=newsalert-demo
export NEWSALERT__NATS__DEAD_LETTER_STREAM=NEWSALERT_DEMO_DLQ
export NEWSALERT__NATS__DEAD_LETTER_SUBJECT=demo.dlq
export NEWSALERT__NATS__ALERTS_STREAM=NEWSALERT_DEMO_ALERTS
export NEWSALERT__NATS__ALERTS_SUBJECT=demo.alerts
export NEWSALERT__TELEGRAM__BOT_TOKEN=""
export NEWSALERT__SMTP__HOST=""

echo "== newsalert check"
"$bin" check --config config

echo "== starting: newsalert run --config config"
"$bin" run --config config >"$work/alerts.jsonl" 2>"$work/newsalert.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "consuming" "$work/newsalert.log" && break; sleep 0.1; done

run_id="$(date +%s)"
python3 - "$run_id" config/examples/articles.jsonl >"$work/articles.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[2], encoding="utf-8"):
    if line.strip():
        a = json.loads(line)
        a["id"] = f'{a["id"]}-{sys.argv[1]}'
        print(json.dumps(a, ensure_ascii=False))
PY
echo "== publishing $(wc -l <"$work/articles.jsonl") example articles and 1 invalid event"
"$bin" publish --config config "$work/articles.jsonl" 2>/dev/null
echo '{"id":"broken-'"$run_id"'","body":"an event without a title"}' >"$work/invalid.jsonl"
"$bin" publish --config config --raw "$work/invalid.jsonl" 2>/dev/null || true

expected=7
for _ in $(seq 50); do [ "$(wc -l <"$work/alerts.jsonl")" -ge "$expected" ] && break; sleep 0.1; done
sleep 0.5

echo
echo "== alerts (one per article, subscriber and channel; all matching rules listed)"
python3 - "$work/alerts.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    a = json.loads(line)
    print(f'  {a["channel"]:8} → {a["subscriber"]:14} {a["title"][:60]:60}  rules: {", ".join(a["rules"])}')
PY
echo
echo "== dead letters (newsalert dlq list)"
"$bin" dlq list --config config 2>/dev/null | tail -n 3 | sed 's/^/  /' 
echo
echo "Not alerted: the football article matches no energy rule, and \"A woman from Oman\""
echo "matches nothing (whole words only; \"Minsk\" alone is not the \"Minsk Group\")."
echo "Terms that appear only in the seed article's \"Latest news\" list (Trump, NATO) never count."
