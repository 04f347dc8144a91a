#!/bin/bash
# Starts a Kafka node with SASL users (the prod overlay's kafka-sasl-tls.yaml, and compose.yaml, run this in
# place of the image's own command), in three steps before handing over to the apache/kafka image's start:
#  1. where the listener has TLS (KAFKA_SSL_KEYSTORE_LOCATION set: prod), the PEM keystore: Kafka wants
#     the PKCS#8 key and the certificate chain in one file, and a kubernetes.io/tls Secret holds them
#     apart; the file goes to memory (an emptyDir), never to disk. Compose's listener has no TLS;
#  2. the storage formatted, on a controller with the super user `admin` as a SCRAM user: the only way a
#     KRaft cluster knows a user before it runs (the controllers write the metadata log's first records;
#     a broker alone gets them from the controllers), and the user the brokers log in to each other as.
#     Only a first start formats: on a node that has its storage already, --ignore-formatted leaves it
#     alone, and a new admin password takes kafka-configs.sh (docs/cluster.md). The other users are the
#     kafka-acls Job's;
#  3. exec the image's command (/__cacert_entrypoint.sh from its eclipse-temurin base, then
#     /etc/kafka/docker/run), which writes server.properties from the KAFKA_* variables as always and
#     formats too; that format finds step 2's storage and says "already formatted", which it tolerates.
# Step 2 needs server.properties before the image writes it, so it writes its own the way the image does
# (kafka.docker.KafkaDockerWrapper in Kafka 3.9): each KAFKA_* variable except the JVM and log settings,
# "KAFKA_" removed, lower-cased, "_" to ".", then "..." to "-" and ".." to "_".
set -euo pipefail

umask 077
keystore=${KAFKA_SSL_KEYSTORE_LOCATION:-}
if [[ -n $keystore ]]; then
  tls=/var/run/secrets/kafka-tls
  if ! grep -q -- '-----BEGIN PRIVATE KEY-----' "$tls/tls.key"; then
    echo "kafka-start: $tls/tls.key is not an unencrypted PKCS#8 key, the only form Kafka's PEM keystore reads" \
      "(cert-manager: privateKey.encoding PKCS8; by hand: openssl pkcs8 -topk8 -nocrypt)" >&2
    exit 1
  fi
  cat "$tls/tls.key" "$tls/tls.crt" > "$keystore"
fi

excluded=" KAFKA_VERSION KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS KAFKA_OPTS KAFKA_JMX_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL KAFKA_JMX_HOSTNAME "
# The JAAS settings hold the admin's password: the file lives in memory (next to the keystore, or in
# STRATUS_KAFKA_SCRATCH, compose's tmpfs), and goes.
properties=${STRATUS_KAFKA_SCRATCH:-$(dirname "$keystore")}/format.properties
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
scram=()
if [[ ${KAFKA_PROCESS_ROLES:-} == *controller* ]]; then
  scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$STRATUS_KAFKA_ADMIN_PASSWORD]")
fi
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" --config "$properties" "${scram[@]}"
rm -f "$properties"
trap - EXIT

if [[ -x /__cacert_entrypoint.sh ]]; then
  exec /__cacert_entrypoint.sh /etc/kafka/docker/run
fi
exec /etc/kafka/docker/run
