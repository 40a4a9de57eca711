"""``snowland db``, ``env``, ``init`` and ``prefect``: the embedded database, the index and the local Prefect."""

from __future__ import annotations

import argparse

from products.errors import BadInputError


def cmd_db(args: argparse.Namespace) -> int:
    from infra.localdb import LocalPostgis
    from odc_config.settings import load_settings

    settings = load_settings()
    if settings.external_index:
        print("ODC_ENVIRONMENT points at an index of your own; the embedded database is not used.")
    db = LocalPostgis(root=settings.pg_dir, port=settings.db_port, db_name=settings.db_name)
    status = {"up": db.up, "down": db.down, "status": db.status}[args.action]()
    print(status.describe())
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """Shell exports that point the ``datacube`` command (and any script) at snowland's index."""
    from odc_config.settings import load_settings

    for key, value in sorted(load_settings().odc_environ().items()):
        print(f"export {key}='{value}'")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from flows.storage.index import ensure_index
    from odc_config.settings import load_settings

    products = ensure_index()
    print(f"ODC index ready ({load_settings().env_name}); products: {', '.join(products)}")
    return 0


def cmd_prefect(args: argparse.Namespace) -> int:
    """A local Prefect server and process worker: up, down, status, deploy prefect.yaml, run a deployment."""
    from flows.storage.index import ensure_index
    from infra.localprefect import LocalPrefect, parse_params

    if args.action == "run" and len(args.deployment or []) != 1:
        raise BadInputError("give one deployment: snowland prefect run FLOW/DEPLOYMENT [--param k=v ...]")
    params = parse_params(args.param or [])
    local = LocalPrefect.from_settings()
    if args.action == "up":
        ensure_index()
        print(local.up().describe())
    elif args.action in ("down", "status"):
        print((local.down() if args.action == "down" else local.status()).describe())
    elif args.action == "deploy":
        names = local.deploy(target=args.target, names=args.deployment or ())
        print(f"deployed on {local.url}: {', '.join(names)}")
    else:
        run = local.run(args.deployment[0], parameters=params, wait=not args.no_wait)
        print(f"flow run {run.name} ({run.id}): {run.state.name if run.state else 'submitted'}")
        return 0 if args.no_wait or (run.state and run.state.is_completed()) else 1
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="the embedded PostgreSQL + PostGIS index: up, down, status")
    p.add_argument("action", choices=["up", "down", "status"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("prefect", help="local Prefect server + worker for the schedules of prefect.yaml: "
                       "up, down, status, deploy, run",
                       epilog="examples: snowland prefect up; snowland prefect deploy; "
                       "snowland prefect run snow-cover/alps-after-indexing --param start=2024-01-01")
    p.add_argument("action", choices=["up", "down", "status", "deploy", "run"])
    p.add_argument("deployment", nargs="*", help="run: FLOW/DEPLOYMENT; deploy: deployment names (default: all "
                   "of the target pool)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="run: a parameter (JSON or text; repeatable)")
    p.add_argument("--target", choices=["local", "kubernetes"], default="local",
                   help="deploy: the deployments of the local process pool (default) or of the Kubernetes pool")
    p.add_argument("--no-wait", action="store_true", help="run: return once the run is created")
    p.set_defaults(func=cmd_prefect)

    p = sub.add_parser("env", help="print the ODC_* exports for `datacube` commands: eval \"$(snowland env)\"")
    p.set_defaults(func=cmd_env)

    p = sub.add_parser("init", help="create the ODC index (schema, EPSG:3035 spatial index) and add the products")
    p.set_defaults(func=cmd_init)
