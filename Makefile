# The two entry points of README.md. Each installs what it needs first (infra/bootstrap.sh: fast when done).
.PHONY: demo test bench

demo:
	@infra/bootstrap.sh
	@.venv/bin/snowland demo

test:
	@infra/bootstrap.sh
	@.venv/bin/python -m pytest -q

bench:
	@infra/bootstrap.sh
	@.venv/bin/python bench/bench_cube.py
