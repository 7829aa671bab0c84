#!/bin/sh
# restart the dev server (own pid file)
[ -f /tmp/pgw/dev.pid ] && kill $(cat /tmp/pgw/dev.pid) 2>/dev/null; sleep 0.5
SMARTCAR_LOG_LEVEL=${LOG:-warn} node --import tsx dev.mts /tmp/smartcar-dev-6OE6S7 > /tmp/pgw/dev.log 2>&1 &
echo $! > /tmp/pgw/dev.pid
for i in $(seq 1 40); do grep -q listening /tmp/pgw/dev.log && break; sleep 0.25; done
