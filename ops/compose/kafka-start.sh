#!/bin/bash
# Starts compose's Kafka node (compose.yaml runs this in place of the image's entrypoint): formats the
# storage with the super user `admin` as a SCRAM user, then hands over to the apache/kafka image's start.
# Steps 2 and 3 of the prod overlay's ops/k8s/overlays/prod/kafka-start.sh, copied rather than mounted:
# that script's step 1 builds a TLS keystore from a mounted certificate and stops without one, and compose's
# listener has no TLS (compose.yaml says why). Keep the two alike; what each step does and why is told there:
#  - the format adds `admin` (password STRATUS_KAFKA_ADMIN_PASSWORD) on the first start only
#    (--ignore-formatted): a storage formatted before, e.g. by a compose without SASL, keeps no admin, and
#    takes `docker compose down -v` (a new, empty cluster) or kafka-configs.sh run by hand;
#  - it writes its own server.properties from the KAFKA_* variables as the image does (Kafka 3.9's
#    kafka.docker.KafkaDockerWrapper): "KAFKA_" removed, lower-cased, "_" to ".", "..." to "-", ".." to "_";
#  - then exec the image's command, which writes server.properties again and finds the storage formatted.
set -euo pipefail

# The properties hold the admin's password (the listener's JAAS line): in a tmpfs (compose.yaml), then gone.
scratch=/run/stratus-kafka
excluded=" KAFKA_VERSION KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS KAFKA_OPTS KAFKA_JMX_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL KAFKA_JMX_HOSTNAME "
umask 077
properties=$scratch/format.properties
trap 'rm -f "$properties"' EXIT
for name in $(compgen -e); do
  [[ $name == KAFKA_* && $excluded != *" $name "* ]] || continue
  key=${name//KAFKA_/}
  key=${key,,}
  key=${key//_/.}
  key=${key//.../-}
  key=${key//../_}
  printf '%s=%s\n' "$key" "${!name}"
done > "$properties"
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" --config "$properties" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$STRATUS_KAFKA_ADMIN_PASSWORD]"
rm -f "$properties"
trap - EXIT

if [[ -x /__cacert_entrypoint.sh ]]; then
  exec /__cacert_entrypoint.sh /etc/kafka/docker/run
fi
exec /etc/kafka/docker/run
