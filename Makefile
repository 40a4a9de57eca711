# The two entry points of README.md. Each installs what it needs first (infra/bootstrap.sh: fast when done).
.PHONY: demo test bench

demo:
	@infra/bootstrap.sh
	@.venv/bin/snowland demo

test:
	@infra/bootstrap.sh --test
	@.venv/bin/python infra/run_tests.py -q

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

# The Kubernetes manifests, rendered and validated offline (infra/kubernetes.md), and the database Secrets apart,
# from the env files of K8S_SECRETS (never committed: infra/k8s/secrets/generate.sh writes them). A missing file, an
# empty value or a placeholder (change-me, CHANGE_ME, <...>) is refused.
K8S_SECRETS ?= infra/k8s/secrets
k8s-render:
	@for f in postgis owner writer reader prefect; do test -s $(K8S_SECRETS)/$$f.env || { \
		echo "k8s-render: no $(K8S_SECRETS)/$$f.env: run infra/k8s/secrets/generate.sh" >&2; exit 1; }; done
	@if grep -iqE '(change[-_]?me|placeholder|<[^>]*>|=$$|:@)' $(K8S_SECRETS)/*.env; then \
		echo "k8s-render: $(K8S_SECRETS) holds a placeholder or an empty password; run infra/k8s/secrets/generate.sh" >&2; \
		exit 1; fi
	@mkdir -p out && kubectl kustomize infra/k8s > out/snowland-k8s.yaml
	@(umask 077 && kubectl kustomize $(K8S_SECRETS) > out/snowland-k8s-secrets.yaml)
	@.venv/bin/kubernetes-validate --strict --quiet -k 1.32.0 out/snowland-k8s.yaml out/snowland-k8s-secrets.yaml \
		&& echo "out/snowland-k8s.yaml, out/snowland-k8s-secrets.yaml (apply the secrets first)"
