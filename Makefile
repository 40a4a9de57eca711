# The two entry points of README.md. Each installs what it needs first (infra/bootstrap.sh: fast when done).
.PHONY: demo test bench

demo:
	@infra/bootstrap.sh
	@.venv/bin/snowland demo

test:
	@infra/bootstrap.sh --test
	@.venv/bin/python -m pytest -q

bench:
	@infra/bootstrap.sh
	@.venv/bin/python bench/bench_cube.py
	@.venv/bin/python bench/bench_scaling.py

# The schedules of prefect.yaml on this machine: a local Prefect server and worker (README, "Schedules on one machine").
.PHONY: schedules k8s-render
schedules:
	@infra/bootstrap.sh
	@.venv/bin/snowland prefect up
	@.venv/bin/snowland prefect deploy

# The Kubernetes manifests, rendered and validated offline (infra/kubernetes.md).
k8s-render:
	@mkdir -p out && kubectl kustomize infra/k8s > out/snowland-k8s.yaml
	@.venv/bin/kubernetes-validate --strict --quiet -k 1.32.0 out/snowland-k8s.yaml && echo "out/snowland-k8s.yaml"
