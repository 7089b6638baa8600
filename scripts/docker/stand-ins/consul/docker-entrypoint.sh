#!/bin/sh
# The official image's contract, reduced: flags or `agent` run the Consul agent with the image's
# data and config folders, as the consul user; any other command runs as given.
set -e
case "$1" in
  -*) set -- consul "$@" ;;
esac
if [ "$1" = agent ]; then
  shift
  set -- consul agent -data-dir=/consul/data -config-dir=/consul/config "$@"
fi
if [ "$1" = consul ] && [ "$(id -u)" = 0 ]; then
  chown -R consul:consul /consul/data /consul/config
  exec setpriv --reuid=consul --regid=consul --init-groups "$@"
fi
exec "$@"
