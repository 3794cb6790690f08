# Wharf — each target works on a fresh clone by itself.
.PHONY: run build test test-unit test-integration bench image setup typecheck clean migrate cli-pack

run: setup
	bash scripts/run-local.sh

# install (npm ci) when needed and build: TypeScript, the CLI and worker bundles, the dashboard
build: setup

test: setup
	bash scripts/docker-up.sh
	bash scripts/build-test-image.sh
	bash scripts/browser-up.sh
	npx tsc -p tsconfig.check.json
	npx tsc -p ui/tsconfig.json --noEmit
	npx vitest run

test-unit: setup
	npx vitest run --project unit

test-integration: setup image
	npx vitest run --project integration

image:
	bash scripts/docker-up.sh
	bash scripts/build-test-image.sh --force

setup:
	bash scripts/setup.sh

typecheck: setup
	npx tsc -p tsconfig.check.json

# make bench ARGS="--only a --workers 200 --tasks 5000"  (see bench/run.ts for every size flag)
bench: setup
	bash scripts/docker-up.sh
	bash scripts/build-test-image.sh
	npx tsx bench/run.ts $(ARGS)

# make migrate FROM=~/.wharf/master/wharf.db TO='mongodb://…' [DB=wharf]  (stop the master first;
# TO may also be a SQLite file; safe to run again; see docs/OPERATIONS.md)
migrate: setup
	@test -n "$(FROM)" -a -n "$(TO)" || { echo 'usage: make migrate FROM=<sqlite file> TO=<mongodb url or sqlite file> [DB=<database>]' >&2; exit 2; }
	node master/dist/store/migrate-cli.js --from "$(FROM)" --to "$(TO)" $(if $(DB),--to-db "$(DB)")

# The `wharf` CLI as a tarball that installs on its own, without this repository:
#   npm install -g cli/dist/wharf-cli-<version>.tgz   (or --prefix DIR; see docs/CLI.md)
cli-pack: setup
	rm -f cli/dist/wharf-cli-*.tgz
	npm pack -w @wharf/cli --pack-destination cli/dist --silent >/dev/null
	@tgz=$$(ls cli/dist/wharf-cli-*.tgz) && echo "cli-pack: $$tgz (install it with: npm install -g $$tgz)"

clean:
	rm -rf node_modules */node_modules */dist .wharf
