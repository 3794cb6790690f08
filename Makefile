# Wharf — each target works on a fresh clone by itself.
.PHONY: run test test-unit test-integration bench image setup typecheck clean

run: setup
	bash scripts/run-local.sh

test: setup
	bash scripts/docker-up.sh
	bash scripts/build-test-image.sh
	npx tsc -p tsconfig.check.json
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

clean:
	rm -rf node_modules */node_modules */dist .wharf
