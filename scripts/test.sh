#!/usr/bin/env bash
# `npm test`: every check, in order of cost. Any failing step fails the run (set -e); nothing is swallowed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "system dependencies (PostgreSQL server, OpenSSH server, Chromium, JDBC driver, psycopg2 and psycopg 3)"
bash scripts/install-system-deps.sh

step "typecheck"
npx tsc --noEmit -p .

step "lint"
npx biome check .

step "unit tests"
npx vitest run --project unit

step "integration tests (real PostgreSQL, OpenSSH, OIDC provider)"
npx vitest run --project integration

step "build the console"
node scripts/start.mjs --build-only

step "end-to-end tests (Playwright in Debian's Chromium)"
npx playwright test
