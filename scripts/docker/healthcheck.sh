#!/bin/bash
# Container healthcheck of a switchyard service: GET http://127.0.0.1:<port><path> answers 200.
# bash's /dev/tcp, not node: a check every few seconds in every container costs next to nothing.
#   switchyard-healthcheck <port> [path]     (path default /health/ready)
port=${1:?usage: switchyard-healthcheck <port> [path]}
path=${2:-/health/ready}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 2 _ status _ <&3 || exit 1
[[ $status == 200 ]]
