"""Where snowland keeps its state and which ODC index it talks to.

Every setting has a default for the embedded laptop set-up and an environment variable to override it.
A user who sets the standard ``ODC_ENVIRONMENT`` / ``ODC_<ENV>_DB_URL`` variables gets their own index;
otherwise snowland points the datacube at its private PostgreSQL + PostGIS cluster.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from products.errors import BadInputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_ENV = "snowland"
ROLES = {"superuser": "postgres", "owner": "snowland_owner", "writer": "snowland_writer", "reader": "snowland_reader",
         "site": "snowland_site"}
"""The embedded index's roles, least first from the end: the reader serves (SELECT only), the writer runs the flows and
the workers (rows only), the owner creates the schema and registers products; the superuser is the cluster's own.
The site's role owns the schema of the distribution site's accounts and carts (``site``) and sees nothing else."""


def passfile(pg_dir: Path, role: str) -> Path:
    """The libpq password file (mode 0600) of one ``ROLES`` role of the embedded index: URLs name it (``passfile=``)
    instead of holding the password, so that nothing that prints a URL prints a password."""
    return pg_dir / "secrets" / f"{role}.pgpass"


@dataclass(frozen=True, kw_only=True)
class Settings:
    state_dir: Path
    db_port: int
    db_name: str
    env_name: str
    external_index: bool

    @property
    def db_url(self) -> str:
        """The flows' and workers' URL: the writer's on the embedded index."""
        return self.role_url("writer")

    @property
    def owner_url(self) -> str:
        """The URL that initialises the index (schema, spatial index, products): the owner's on the embedded index;
        on an index of your own, the one URL you gave."""
        return self.role_url("owner")

    def role_url(self, role: str) -> str:
        """The embedded index's URL for a ``ROLES`` role (its password in its own file); on an index of your own,
        ``ODC_<ENV>_DB_URL`` whatever the role."""
        if self.external_index:
            return os.environ.get(f"ODC_{self.env_name.upper()}_DB_URL", "")
        return (f"postgresql+psycopg2://{ROLES[role]}@127.0.0.1:{self.db_port}/{self.db_name}"
                f"?passfile={passfile(self.pg_dir, role)}")

    @property
    def pg_dir(self) -> Path:
        return self.state_dir / "pg"

    @property
    def data_dir(self) -> Path:
        """Where products written by the flows live (COGs + eo3 documents)."""
        return _path("SNOWLAND_DATA_DIR", self.state_dir / "data")

    def odc_environ(self) -> dict[str, str]:
        """The ODC_* variables that make ``datacube`` (and dask workers) use this index."""
        if self.external_index:
            return {k: v for k, v in os.environ.items() if k.startswith("ODC_")}
        key = self.env_name.upper()
        return {
            "ODC_ENVIRONMENT": self.env_name,
            f"ODC_{key}_INDEX_DRIVER": "postgis",
            f"ODC_{key}_DB_URL": self.db_url,
        }


def _path(name: str, default: Path) -> Path:
    """A folder named by an environment variable; set but empty is refused (it would mean the current folder)."""
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip():
        raise BadInputError(f"{name} is set but empty: give a folder, or unset it for the default {default}")
    return Path(value)


def _port(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip().isdigit() or not 0 < int(value) < 65536:
        raise BadInputError(f"{name}={value!r} is not a TCP port (1-65535); unset it for the default {default}")
    return int(value)


def load_settings() -> Settings:
    """Settings from the environment (``SNOWLAND_HOME``, ``SNOWLAND_DB_PORT``, ``ODC_ENVIRONMENT``)."""
    external = os.environ.get("ODC_ENVIRONMENT", EMBEDDED_ENV) != EMBEDDED_ENV
    return Settings(
        state_dir=_path("SNOWLAND_HOME", PROJECT_ROOT / ".snowland").resolve(),
        db_port=_port("SNOWLAND_DB_PORT", 54329),
        db_name=os.environ.get("SNOWLAND_DB_NAME", "snowland"),
        env_name=os.environ.get("ODC_ENVIRONMENT", EMBEDDED_ENV),
        external_index=external,
    )


def apply_odc_environ(settings: Settings) -> None:
    """Export the ODC_* variables into this process (dask workers started after inherit them)."""
    os.environ.update(settings.odc_environ())


def prefect_environ(settings: Settings) -> dict[str, str]:
    """Prefect settings for an offline machine: private home, no telemetry, patient ephemeral server."""
    return {
        "PREFECT_HOME": str(settings.state_dir / "prefect"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
    }


def apply_environ(settings: Settings | None = None) -> Settings:
    """Export the datacube and Prefect settings (before Prefect is imported); keeps values the user set."""
    settings = settings or load_settings()
    apply_odc_environ(settings)
    for key, value in prefect_environ(settings).items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return settings
