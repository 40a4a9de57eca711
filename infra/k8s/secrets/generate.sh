#!/bin/sh
# Writes the env files of the database Secrets (infra/k8s/secrets/kustomization.yaml) into DIR (default: this
# folder) with a new random password per role, readable by their owner only. Files that exist are kept: remove
# them to make new passwords (and change them in the database too). They are never committed (.gitignore).
set -eu
dir=${1:-$(dirname "$0")}
umask 077
if [ -e "$dir/postgis.env" ]; then
    echo "$dir: the secrets exist, kept (remove its *.env files to make new ones)"
    exit 0
fi
password() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n' | head -c 28; }
db=snowland-postgis:5432
owner=$(password); writer=$(password); reader=$(password); prefect=$(password)
printf 'POSTGRES_PASSWORD=%s\nSNOWLAND_OWNER_PASSWORD=%s\nSNOWLAND_WRITER_PASSWORD=%s\nSNOWLAND_READER_PASSWORD=%s\nPREFECT_DB_PASSWORD=%s\n' \
    "$(password)" "$owner" "$writer" "$reader" "$prefect" > "$dir/postgis.env"
printf 'ODC_CLUSTER_DB_URL=postgresql+psycopg2://snowland_owner:%s@%s/odc\n' "$owner" "$db" > "$dir/owner.env"
printf 'ODC_CLUSTER_DB_URL=postgresql+psycopg2://snowland_writer:%s@%s/odc\n' "$writer" "$db" > "$dir/writer.env"
printf 'ODC_CLUSTER_DB_URL=postgresql+psycopg2://snowland_reader:%s@%s/odc\n' "$reader" "$db" > "$dir/reader.env"
printf 'PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://prefect:%s@%s/prefect\n' "$prefect" "$db" > "$dir/prefect.env"
echo "$dir: secrets written (postgis, owner, writer, reader, prefect)"
