"""The command line itself: every command is exercised by a test, user errors are one line, output is quiet.

The commands that need data run end to end in tests/test_cli_flows.py (the demo, then every command on what it
made); ``query`` and ``search`` also in test_queries.py and test_catalogue.py, ``prefect up/deploy/run`` in
test_deployments.py.
"""

from __future__ import annotations

import ast
import io
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from rich.console import Console

from flows.cli import build_parser, main
from flows.run import progress
from flows.run.outcomes import Exists, Failed, Report, Skipped, Written

TESTS = Path(__file__).resolve().parents[1]
WITH_ACTIONS = ("db", "prefect", "query")  # commands whose first argument is an action: each action is a command


def _commands() -> dict[str, list[str]]:
    """Every command of ``snowland --help``, with the actions of those that take one."""
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    out = {}
    for name, parser in sub.choices.items():
        first = next((a for a in parser._actions if not a.option_strings and a.choices), None)
        out[name] = list(first.choices) if name in WITH_ACTIONS and first else []
    return out


def _exercised() -> set[tuple[str, ...]]:
    """(command,) and (command, action) of every ``main([...])`` call written in a test module."""
    seen = set()
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "main"
                    and node.args and isinstance(node.args[0], ast.List) and node.args[0].elts):
                words = [e.value for e in node.args[0].elts[:2] if isinstance(e, ast.Constant)]
                seen.update({tuple(words[:1]), tuple(words[:2])})
    return seen


def test_every_command_and_action_of_the_parser_runs_in_some_test():
    seen = _exercised()
    missing = [" ".join((name, *action)) for name, actions in _commands().items()
               for action in ([(a,) for a in actions] or [()]) if (name, *action) not in seen]
    assert not missing, f"commands no test runs through flows.cli.main: {missing}"


def test_help_lists_every_command_and_each_command_has_its_help(capsys):
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for name in _commands():
        assert f"    {name}" in listed
        assert main([name, "--help"]) == 0
        assert f"usage: snowland {name}" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "said"), [
    (["snow", "--cell", "NOTACELL"], "snowland snow: argument --cell: not an EEA grid cell name: 'NOTACELL'"),
    (["snow", "--start", "2024-02-30"], "snowland snow: argument --start: not a date: '2024-02-30'"),
    (["snow", "--bbox", "6", "45", "5", "46"], "snowland snow: argument --bbox: 6 45 5 46 is not a box W S E N"),
    (["season", "23"], "snowland season: argument year: year 23 is outside 1972-2100"),
    (["snow", "--params", "no/such.yaml"], "snowland snow: argument --params: no file no/such.yaml"),
    (["lineage", "not-an-id"], "snowland lineage: argument id: not a dataset id: 'not-an-id'"),
    (["land-cover", "--year", "2024", "--model", "x"], "snowland land-cover: argument --model: not a dataset id"),
    (["train-land-cover", "--reference", "no.gpkg", "--years", "2023"],
     "snowland train-land-cover: argument --reference: no file no.gpkg"),
    (["index", "--static", "no/catalog.json"], "snowland index: argument --static: no file or folder no/catalog"),
    (["demo", "--size-km", "0"], "snowland demo: argument --size-km: must be positive, not 0"),
    (["snow-daily", "--window-days", "0"], "snowland snow-daily: argument --window-days: must be at least 1, not 0"),
    (["snowing"], "snowland: argument COMMAND: invalid choice: 'snowing'"),
])
def test_a_bad_argument_is_refused_in_one_line_before_anything_starts(argv, said, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith(said) and err.count("\n") == 1 and not out, err
    assert "Traceback" not in err and "usage" not in err


@pytest.mark.parametrize(("argv", "said", "code"), [
    (["snow", "--start", "2024-03-01", "--end", "2024-02-01"],
     "snowland snow: --start/--end: the period ends (2024-02-01) before it starts (2024-03-01)", 2),
    (["snow", "--resolution", "1000"], "snowland snow: a pixel size of 1000.0 m gives no whole rf for 240 m", 2),
    (["index"], "snowland index: nothing to index: give --stac-api URL", 2),
    (["query", "snow-area", "--place", "Taillefer"], "snowland query snow-area: snow-area needs --time START END", 2),
    (["query", "land-cover", "--year", "2024"], "snowland query land-cover: give one area: --place NAME", 2),
    (["query", "snow-season", "--year", "2024", "--product", "snow_daily"],
     "snowland query snow-season: --product snow_daily does not apply to snow-season", 2),
    (["snow-daily", "--window-days", "300"], "snowland snow-daily: window_days must be a whole number of days", 2),
    (["load", "s2_l2a"], "snowland load: give one area: --cell NAME", 2),
    (["prefect", "run"], "snowland prefect run: give one deployment: snowland prefect run FLOW/DEPLOYMENT", 2),
    (["prefect", "run", "a/b", "--param", "nokey"], "snowland prefect run: a parameter is KEY=VALUE, not 'nokey'", 2),
    (["validate-snow", "/no/such/simulation"], "snowland validate-snow: /no/such/simulation holds no simulated truth", 3),
    (["train-land-cover", "--reference", __file__, "--years", "2023", "--mapping", "rpg_to_nowhere"],
     "snowland train-land-cover: no mapping 'rpg_to_nowhere' (shipped: ", 2),
])
def test_a_user_error_found_by_the_command_is_one_line_with_its_exit_code(argv, said, code, capsys, monkeypatch):
    import distributed

    monkeypatch.setattr(distributed.LocalCluster, "__init__", _no_cluster)
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert err.startswith(said) and err.count("\n") == 1 and "Traceback" not in err, err


def _no_cluster(*args, **kwargs):
    raise AssertionError("a cluster was started for a command refused on its arguments")


def test_a_bad_parameter_file_is_refused_before_any_flow_runs(tmp_path, capsys, monkeypatch):
    import flows.pipelines.snow_cover as snow_cover

    monkeypatch.setattr(snow_cover, "snow_cover", _no_cluster)
    params = tmp_path / "lis.yaml"
    params.write_text("ndsi_pass1: 4\n")
    assert main(["snow", "--params", str(params)]) == 2
    assert capsys.readouterr().err == "snowland snow: ndsi_pass1=4.0 must be an NDSI in [-1, 1]\n"


@pytest.mark.parametrize(("name", "value", "said"), [
    ("SNOWLAND_HOME", "", "snowland env: SNOWLAND_HOME is set but empty: give a folder, or unset it"),
    ("SNOWLAND_HOME", "  ", "snowland env: SNOWLAND_HOME is set but empty"),
    ("SNOWLAND_DB_PORT", "543x", "snowland env: SNOWLAND_DB_PORT='543x' is not a TCP port"),
])
def test_an_empty_or_unusable_setting_is_refused_not_taken_for_the_current_folder(name, value, said, capsys,
                                                                                   monkeypatch):
    monkeypatch.setenv(name, value)
    assert main(["env"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(said) and err.count("\n") == 1 and not out


def test_a_bug_keeps_its_traceback(monkeypatch):
    import flows.cli.db as db

    def broken(args):
        raise ValueError("a bug, not a user's error")

    monkeypatch.setattr(db, "cmd_env", broken)
    with pytest.raises(ValueError, match="a bug"):
        main(["env"])


def test_a_multi_line_reason_is_one_line_unless_verbose(monkeypatch, capsys):
    import flows.cli.db as db
    from infra.localdb import LocalDbError

    def failing(args):
        raise LocalDbError("PostgreSQL did not start on port 1:\nFATAL: one\nFATAL: two")

    monkeypatch.setattr(db, "cmd_init", failing)
    assert main(["init"]) == LocalDbError.exit_code
    assert capsys.readouterr().err == ("snowland init: PostgreSQL did not start on port 1: "
                                       "(2 more line(s): -v shows them)\n")
    assert main(["init", "-v"]) == LocalDbError.exit_code
    assert capsys.readouterr().err.splitlines()[1:] == ["FATAL: one", "FATAL: two"]


def test_db_env_and_prefect_status_on_a_private_state_folder(capsys, monkeypatch):
    from helpers import environ_restored, free_port
    from infra.localdb import LocalPostgis

    with environ_restored():  # `main` exports the private index's settings; monkeypatch only undoes its own
        tmp_path = Path(tempfile.mkdtemp(prefix="snowland-cli-db-"))
        port = free_port()
        monkeypatch.setenv("SNOWLAND_HOME", str(tmp_path))
        monkeypatch.setenv("SNOWLAND_DB_PORT", str(port))
        monkeypatch.setenv("SNOWLAND_PREFECT_PORT", str(free_port()))
        try:
            assert main(["db", "status"]) == 0
            assert f"not created on 127.0.0.1:{port}" in capsys.readouterr().out
            assert main(["db", "up"]) == 0
            assert f"running on 127.0.0.1:{port}" in capsys.readouterr().out
            assert main(["db", "status"]) == 0
            assert f"running on 127.0.0.1:{port}" in capsys.readouterr().out
            assert main(["env"]) == 0
            exports = capsys.readouterr().out
            writer = (f"postgresql+psycopg2://snowland_writer@127.0.0.1:{port}/snowland"
                      f"?passfile={tmp_path / 'pg' / 'secrets' / 'writer.pgpass'}")
            assert f"export ODC_SNOWLAND_DB_URL='{writer}'" in exports
            passwords = [p.read_text().strip().rsplit(":", 1)[1] for p in (tmp_path / "pg" / "secrets").iterdir()]
            from odc_config.settings import ROLES, load_settings

            assert len(passwords) == len(ROLES) and not any(p in exports for p in passwords), "a password was printed"

            assert not any(p in repr(load_settings()) for p in passwords)
            assert main(["db", "down"]) == 0
            assert f"stopped on 127.0.0.1:{port}" in capsys.readouterr().out
            assert main(["prefect", "status"]) == 0
            assert main(["prefect", "down"]) == 0
            said = capsys.readouterr().out.splitlines()
            assert len(said) == 2 and said[0] == said[1] and said[0].startswith("Prefect server stopped at http://127")
            assert "worker of pool 'snowland-local' stopped" in said[0] and str(tmp_path) in said[0]
        finally:
            LocalPostgis(root=tmp_path / "pg", port=port).destroy()
            shutil.rmtree(tmp_path, ignore_errors=True)


# --- what a run shows: the progress bar and the table of what it wrote ---------------------------------------


def _report() -> Report:
    return Report(flow="snow_cover", outcomes=[
        Written(unit="100kmE40N24/2024-01-15/s2", id="0d7e4b5a-1111-5222-8333-444455556666",
                path=Path("/data/snow_cover/100kmE40N24/2024/01/15/s2/snow_cover.odc-metadata.yaml")),
        Exists(unit="100kmE40N24/2024-01-12/l8", id="9a8b7c6d-1111-5222-8333-444455556666",
               path=Path("/data/snow_cover/100kmE40N24/2024/01/12/l8/snow_cover.odc-metadata.yaml")),
        Skipped(unit="100kmE40N24/2024-01-20/s2", reason="no clear pixel"),
        Failed(unit="100kmE40N24/2024-01-25/s2", reason="SnowInputError: cannot read the inputs"),
    ], details={"model": "m-1"})


def test_a_run_ends_with_its_table_its_summary_and_where_the_datasets_are(capsys):
    from flows.cli.show import report

    report(_report())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["unit", "outcome", "dataset", "id", "path", "or", "reason"]
    rows = [line.split(maxsplit=3) for line in lines[1:5]]
    assert [r[:2] for r in rows] == [["100kmE40N24/2024-01-15/s2", "written"], ["100kmE40N24/2024-01-12/l8", "already"],
                                     ["100kmE40N24/2024-01-20/s2", "skipped"], ["100kmE40N24/2024-01-25/s2", "failed"]]
    assert rows[0][2] == "0d7e4b5a-1111-5222-8333-444455556666" and rows[0][3].endswith("metadata.yaml")
    assert lines[5] == _report().summary().splitlines()[0] and lines[6] == "  model: m-1"
    assert lines[7] == "2 dataset(s) under /data/snow_cover/100kmE40N24/2024/01"


def test_the_progress_bar_counts_units_on_a_terminal_and_is_silent_elsewhere(capsys):
    from flows.cli.show import ProgressBar, progress_bars

    screen = io.StringIO()
    with progress.listen(ProgressBar(Console(file=screen, force_terminal=True, width=100))):
        with progress.units("snow_cover", total=3) as done:
            done("written")
            done("written")
            done("failed")
    drawn = screen.getvalue()
    assert "snow_cover" in drawn and "3/3" in drawn and "2 written, 1 failed" in drawn
    with progress_bars():  # stdout is captured here: not a terminal
        with progress.units("snow_cover", total=2) as done:
            done("written")
    assert capsys.readouterr().out == ""


def test_logs_are_warnings_only_by_default_and_info_with_verbose():
    from flows.cli.logs import log_level

    scheduler = logging.getLogger("distributed.scheduler")
    before = logging.getLogger("distributed").level
    with log_level(verbose=False):
        assert not scheduler.isEnabledFor(logging.INFO) and scheduler.isEnabledFor(logging.WARNING)
        assert os.environ["PREFECT_LOGGING_LEVEL"] == "WARNING"
    with log_level(verbose=True):
        assert scheduler.isEnabledFor(logging.INFO) and os.environ["PREFECT_LOGGING_LEVEL"] == "INFO"
    assert logging.getLogger("distributed").level == before


def test_the_demo_sizes_of_the_command_are_those_of_the_demo():
    from flows.cli.demo import DEMO_SIZES
    from flows.pipelines.demo import SIZES

    assert set(DEMO_SIZES) == set(SIZES)
