"""The flows' one failure policy and their user errors: a unit's failure is recorded with its reason while the others
go on; a user's mistake stops a flow before anything starts, said in one log line, and still reaches the caller."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from prefect import flow, task

from flows.pipelines import arguments
from flows.run import progress
from flows.run.outcomes import Exists, Outcome, Report, Written, gather
from odc_config.settings import PROJECT_ROOT
from products.errors import BadInputError


@task
def _unit(name: str) -> Outcome:
    if name == "bug":
        raise RuntimeError(f"a bug in {name}")
    if name == "user":
        raise BadInputError(f"{name}: cannot be used\n as given")
    if name == "there":
        return Exists(unit=name, id=f"id-{name}")
    return Written(unit=name, id=f"id-{name}")


@flow
def _fan_out(names: list[str]) -> Report:
    return Report(flow="test", outcomes=gather(_unit.map(names), units=names, label="units"))


class _Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def start(self, label: str, total: int) -> None:
        self.events.append(("start", label, str(total)))

    def advance(self, status: str) -> None:
        self.events.append(("advance", status))

    def stop(self) -> None:
        self.events.append(("stop",))


def test_a_failed_unit_is_recorded_with_its_reason_and_the_other_units_go_on(prefect_harness):
    names = ["a", "bug", "there", "user", "b"]
    with progress.listen(_Sink()) as sink:
        report = _fan_out(names)
    assert [o.unit for o in report] == names
    assert [o.unit for o in report.written] == ["a", "b"] and report.ids == ["id-a", "id-there", "id-b"]
    reasons = {o.unit: o.reason for o in report.failed}
    assert reasons == {"bug": "RuntimeError: a bug in bug", "user": "user: cannot be used as given"}
    assert sink.events[0] == ("start", "units", "5") and sink.events[-1] == ("stop",)
    assert sorted(e[1] for e in sink.events[1:-1]) == sorted(o.status for o in report)
    assert "2 failed" in report.summary() and "failed bug: RuntimeError: a bug in bug" in report.summary()


def _bad_calls(reference: Path) -> list[tuple[str, str, dict]]:
    """(flow module, argument the error must name, keyword arguments) of a user's mistake in each flow."""
    return [
        ("snow_cover", "cells", {"cells": ["NOTACELL"]}),
        ("snow_cover", "start", {"start": "2024-13-45"}),
        ("snow_cover", "params_file", {"params_file": str(reference.with_name("no-params.yaml"))}),
        ("snow_cover", "products", {"products": ["sentinel-3"]}),
        ("snow_season", "cells", {"year": 2023, "cells": ["100kmE40"]}),
        ("index", "static", {"static": [str(reference.with_name("no-catalog.json"))]}),
        ("index", "bbox", {"bbox": [6.0, 45.0, 5.0]}),
        ("landcover.maps", "cells", {"year": 2024, "model": "no-model", "cells": ["NOTACELL"]}),
        ("landcover.maps:land_cover_key_date", "key_date", {"year": 2024, "key_date": "june", "model": "no-model"}),
        ("landcover.maps:land_cover_key_date", "mapping", {"year": 2024, "key_date": "july", "reference": str(reference),
                                                           "options": {"mapping": "no_such_mapping"}}),
        ("landcover.train", "reference", {"reference": str(reference.with_name("missing.gpkg")), "years": [2022]}),
        ("landcover.train", "years", {"reference": str(reference), "years": []}),
    ]


FLOWS = {"snow_cover": "snow_cover", "snow_season": "snow_season", "index": "index_scenes",
         "landcover.maps": "land_cover", "landcover.train": "train_land_cover"}


@pytest.fixture
def prefect_errors():
    """ERROR records of every Prefect logger while the test runs."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("prefect")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.parametrize("case", range(len(_bad_calls(Path("x")))))
def test_a_user_error_in_a_flow_is_one_log_line_before_any_cluster_and_reaches_the_caller(
        case, prefect_harness, prefect_errors, monkeypatch, tmp_path):
    import importlib

    reference = tmp_path / "parcels.gpkg"
    reference.write_bytes(b"")
    where, argument, kwargs = _bad_calls(reference)[case]
    module_name, _, name = where.partition(":")
    module = importlib.import_module(f"flows.pipelines.{module_name}")
    started = []
    if hasattr(module, "flow_client"):
        monkeypatch.setattr(module, "flow_client", lambda: started.append("cluster"))
    monkeypatch.setattr("flows.run.cluster.make_cluster", lambda *a, **k: started.append("cluster"))

    with pytest.raises(BadInputError, match=f"^{argument}: ") as raised:
        getattr(module, name or FLOWS[module_name])(**kwargs)

    assert started == []
    assert [r.getMessage() for r in prefect_errors] == [str(raised.value)], "one ERROR line: the error's message"
    assert all(r.exc_info is None and "Traceback" not in r.getMessage() for r in prefect_errors)


def test_a_flow_run_ended_by_a_user_error_is_failed_with_the_message_and_its_result_raises(prefect_harness):
    from flows.pipelines.snow_season import snow_season

    state = snow_season(year=2023, cells=["NOTACELL"], return_state=True)
    assert state.is_failed() and state.message.startswith("cells: not an EEA grid cell name: 'NOTACELL'")
    with pytest.raises(BadInputError, match="NOTACELL"):
        state.result()


def test_argument_checks_name_the_argument_and_return_what_the_flow_uses(tmp_path):
    assert arguments.cells(["100kmE40N24", " 10kmE400N240"]) == ["100kmE40N24", "10kmE400N240"]
    assert arguments.cells(None) is None and arguments.bbox(None) is None
    assert arguments.bbox([5, 44.5, 6.5, 45]) == [5.0, 44.5, 6.5, 45.0]
    assert arguments.instant("2024-01-31T10:00:00Z", argument="start") == "2024-01-31T10:00:00Z"
    assert arguments.existing_all([str(tmp_path)], argument="theia") == [tmp_path]
    for check, said in [
        (lambda: arguments.cells(["E40N24"]), "cells: not an EEA grid cell name"),
        (lambda: arguments.bbox([5, 44, 6]), "bbox: give 4 numbers"),
        (lambda: arguments.bbox([6.5, 44, 5, 45]), "bbox: .* is not west < east"),
        (lambda: arguments.bbox([5, 44, 6, float("nan")]), "bbox: .* not a number"),
        (lambda: arguments.instant("31/01/2024", argument="end"), "end: '31/01/2024' is not a date"),
        (lambda: arguments.year(24), "year: 24 is not a year"),
        (lambda: arguments.years([], argument="train_years"), "train_years: give at least one year"),
        (lambda: arguments.number(-1, argument="since_days"), "since_days: -1 must be a number 0 or more"),
        (lambda: arguments.number(0, argument="resolution", strict=True), "resolution: 0 must be a number above 0"),
        (lambda: arguments.one_of("s3", ("s2_l2a",), argument="products"), "products: unknown 's3'; use one of s2_l2a"),
        (lambda: arguments.existing(tmp_path / "gone", argument="reference"), "reference: .* does not exist"),
        (lambda: arguments.checked("key_date", lambda: {}["june"]), "key_date: june"),
    ]:
        with pytest.raises(BadInputError, match=f"^{said}"):
            check()


def _snowland_names(tree: ast.AST) -> list[tuple[int, str]]:
    import re

    name = re.compile(r"^snowland:[a-z0-9_]+$")
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and name.match(node.value)]


def test_every_snowland_property_name_is_spelled_once_in_the_properties_module():
    from flows.storage import properties

    spelled = [v for k, v in vars(properties).items() if k.isupper() and isinstance(v, str)]
    assert len(spelled) == len(set(spelled)), "a name given twice"
    elsewhere = []
    for folder in ("flows", "products", "infra", "bench"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if path == Path(properties.__file__):
                continue
            elsewhere += [f"{path.relative_to(PROJECT_ROOT)}:{line}: {text}"
                          for line, text in _snowland_names(ast.parse(path.read_text()))]
    assert elsewhere == [], "use the names of flows/storage/properties.py"
