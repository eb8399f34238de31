#!/bin/sh
# Creates the Temporal server's two PostgreSQL databases and brings their schemas to the server's version, with the
# server's own temporal-sql-tool and the schemas built into it. It reads the cluster's variables (cluster.env, and
# POSTGRES_SEEDS for the host). Safe to run again: an existing database is kept, a schema already set up is only
# brought up to date. Used by `make test-cluster` and by docker-compose.temporal.yml.
set -eu

export SQL_PLUGIN="$DB" SQL_HOST="$POSTGRES_SEEDS" SQL_PORT="$DB_PORT" SQL_USER="$POSTGRES_USER" SQL_PASSWORD="$POSTGRES_PWD"
sql_tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}

setup() { # database, embedded schema
	"$sql_tool" --db "$1" create-database
	"$sql_tool" --db "$1" setup-schema -v 0.0
	"$sql_tool" --db "$1" update-schema --schema-name "$2"
}
setup "$DBNAME" postgresql/v12/temporal
setup "$VISIBILITY_DBNAME" postgresql/v12/visibility
