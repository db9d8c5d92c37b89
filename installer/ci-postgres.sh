#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the shared-registry tests and print its URL.
#
#   eval "$(bash installer/ci-postgres.sh)"   # sets PLANTML_TEST_PG_URL and PLANTML_TEST_PG_DIR
#   python3 installer/pg_cluster.py stop "$PLANTML_TEST_PG_DIR"
#
# As root it installs Debian's postgresql first when initdb is missing. The cluster lives in a
# temporary folder (initdb, owned by the postgres account when run as root, since initdb
# refuses root), listens on 127.0.0.1 at a free port and on a Unix socket in that folder, and
# has one database, plantml_test, reachable without a password from this machine only.
# Everything but the two export lines goes to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

have_server() {
    command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if ! have_server; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing Debian's postgresql" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql >&2
        # Debian's package starts its own cluster on port 5432; the tests do not use it.
    else
        echo "error: PostgreSQL's initdb is not installed; run this as root or install" \
             "the postgresql package" >&2
        exit 1
    fi
fi
exec python3 installer/pg_cluster.py start "$@"
