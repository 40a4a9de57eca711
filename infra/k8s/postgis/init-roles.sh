#!/bin/bash
# First start of the database (the postgis image runs /docker-entrypoint-initdb.d once, on an empty volume): the
# roles of infra/localdb.py, each with its password from the snowland-postgis Secret, and Prefect's own database.
# The owner owns the ODC database (schema, products); the writer gets rows of what the owner creates; the reader
# reads, in read-only sessions.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$SNOWLAND_OWNER_PASSWORD" -v writer_password="$SNOWLAND_WRITER_PASSWORD" \
    -v reader_password="$SNOWLAND_READER_PASSWORD" -v prefect_password="$PREFECT_DB_PASSWORD" <<'SQL'
create role snowland_owner login password :'owner_password';
create role snowland_writer login password :'writer_password';
create role snowland_reader login password :'reader_password';
alter role snowland_reader set default_transaction_read_only = on;
create role odc_user nologin;
create role odc_manage nologin in role odc_user;
create role odc_admin nologin in role odc_manage;
create extension if not exists postgis;
alter database odc owner to snowland_owner;
alter default privileges for role snowland_owner grant usage on schemas to snowland_writer, snowland_reader;
alter default privileges for role snowland_owner grant select, insert, update, delete on tables to snowland_writer;
alter default privileges for role snowland_owner grant usage, select, update on sequences to snowland_writer;
alter default privileges for role snowland_owner grant select on tables to snowland_reader;
create role prefect login password :'prefect_password';
create database prefect owner prefect;
SQL
