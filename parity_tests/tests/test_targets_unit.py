"""Loading outside targets, unit by unit: ``import_attribute``, ``load_plugin_file``,
``entries_from``, ``load_targets``, ``installed_entries`` and the pytest plugin's options
(``--parity-plugin``, ``--parity-target``/``--parity-as``, ``--parity-job``,
``--parity-seed``) and ``check_layer``. No child processes; the plugin runs in-process
through ``pytester`` on one job at a time."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os.path
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity_tests import targets
from parity_tests.adapters import Adapter, Target
from parity_tests.pytest_plugin import check_layer
from parity_tests.registry import BY_NAME
from parity_tests.targets import (
    ENTRY_POINT_GROUP,
    TargetError,
    entries_from,
    import_attribute,
    installed_entries,
    load_plugin_file,
    load_targets,
)
from parity_tests.tests import outside_layers

pytest_plugins = ["pytester"]

MODULE = "parity_tests.tests.outside_layers"
SIGMOID = f"from parity_tests.adapters import Target\nfrom {MODULE} import UpcastingSigmoid\n"


def plugin_text(name: str = "up.Sigmoid", like: str = "sigmoid") -> str:
    """A plugin file's text: one ``UpcastingSigmoid`` target."""
    return SIGMOID + f"TARGETS = [Target(UpcastingSigmoid, like={like!r}, name={name!r})]\n"


@pytest.fixture(autouse=True)
def _clean_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test's plugin modules and sys.path entries are gone after it."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("parity_plugin_", "helper_for_")):
            del sys.modules[name]


def module_name(path: Path) -> str:
    """The name ``load_plugin_file`` gives the module of ``path``."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    return f"parity_plugin_{path.stem}_{digest}"


# --------------------------------------------------------------------------- import_attribute
def test_import_attribute_reads_colon_dotted_and_nested_specs() -> None:
    """MODULE:ATTR, MODULE.ATTR and MODULE:OUTER.INNER name the same objects."""
    assert import_attribute(f"{MODULE}:ContractLinear") is outside_layers.ContractLinear
    assert import_attribute(f"{MODULE}.ContractLinear") is outside_layers.ContractLinear
    assert (import_attribute(f"{MODULE}:ContractLinear.forward")
            is outside_layers.ContractLinear.forward)
    assert import_attribute("os.path:join") is os.path.join


def test_a_dotted_spec_imports_the_longest_module_path(tmp_path: Path) -> None:
    """``pkg.sub.Attr`` imports ``pkg.sub``, not only ``pkg`` (whose ``sub`` is not yet an
    attribute)."""
    package = tmp_path / "helper_for_dotted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sub.py").write_text("class Thing:\n    pass\n")
    sys.path.insert(0, str(tmp_path))
    thing = import_attribute("helper_for_dotted.sub.Thing")
    assert thing.__name__ == "Thing" and thing.__module__ == "helper_for_dotted.sub"


@pytest.mark.parametrize(("spec", "message"), [
    ("ContractLinear", "--target 'ContractLinear': expected MODULE:ATTR, e.g. "
                       "mypkg.layers:Dense"),
    (":ContractLinear", "--target ':ContractLinear': expected MODULE:ATTR"),
    ("os:", "--target 'os:': expected MODULE:ATTR"),
    ("nowhere.module:X", "--target 'nowhere.module:X': cannot import 'nowhere.module' ("),
    (f"{MODULE}:Missing", f"--target '{MODULE}:Missing': {MODULE} has no attribute 'Missing'"),
    (f"{MODULE}:ContractLinear.nope",
     f"--target '{MODULE}:ContractLinear.nope': {MODULE} has no attribute "
     "'ContractLinear.nope'"),
])
def test_import_attribute_refuses_with_the_spec_and_what_is_wrong(spec: str,
                                                                  message: str) -> None:
    """Every refusal is a TargetError that starts with the option as given."""
    with pytest.raises(TargetError) as caught:
        import_attribute(spec)
    assert str(caught.value).startswith(message)
    if "cannot import" in message:
        assert str(caught.value).endswith("is it installed, or run from the folder that holds it")
        assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --------------------------------------------------------------------------- load_plugin_file
def test_a_plugin_file_is_imported_once_with_its_folder_on_sys_path(tmp_path: Path) -> None:
    """Its own imports resolve from its folder; loading it again gives the same module."""
    (tmp_path / "helper_for_plugin.py").write_text("LIKE = 'sigmoid'\n")
    plugin = tmp_path / "plugin.py"
    plugin.write_text(SIGMOID + "import helper_for_plugin\n"
                      "TARGETS = [Target(UpcastingSigmoid, like=helper_for_plugin.LIKE)]\n")
    module = load_plugin_file(str(plugin))
    assert module.__name__ == module_name(plugin) and sys.modules[module.__name__] is module
    assert module.TARGETS[0].like == "sigmoid"
    assert sys.path[0] == str(tmp_path)
    assert load_plugin_file(plugin) is module
    other = tmp_path / "other.py"
    other.write_text(plugin_text("other.Sigmoid"))
    assert load_plugin_file(other).TARGETS[0].name == "other.Sigmoid"
    assert sys.path.count(str(tmp_path)) == 1


def test_two_plugin_files_of_one_name_in_two_folders_are_two_modules(tmp_path: Path) -> None:
    """The module name carries the resolved path's digest, not only the stem."""
    loaded = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "plugin.py"
        path.write_text(plugin_text(f"{folder}.Sigmoid"))
        loaded.append(load_plugin_file(path))
    assert [m.TARGETS[0].name for m in loaded] == ["a.Sigmoid", "b.Sigmoid"]


def test_a_plugin_that_raises_is_a_target_error_and_can_be_loaded_once_fixed(
        tmp_path: Path) -> None:
    """The error names the file and the exception; the half-imported module is dropped."""
    plugin = tmp_path / "broken.py"
    plugin.write_text("raise ValueError('boom')\n")
    with pytest.raises(TargetError) as caught:
        load_plugin_file(plugin)
    assert str(caught.value) == f"--plugin {plugin}: importing it raised ValueError: boom"
    assert isinstance(caught.value.__cause__, ValueError)
    assert module_name(plugin) not in sys.modules
    plugin.write_text(plugin_text())
    assert load_plugin_file(plugin).TARGETS[0].name == "up.Sigmoid"


def test_a_missing_plugin_file_or_a_folder_is_no_such_file(tmp_path: Path) -> None:
    """Neither a path that does not exist nor a directory is imported."""
    for path in (tmp_path / "missing.py", tmp_path):
        with pytest.raises(TargetError, match=f"^--plugin {re.escape(str(path))}: no such file$"):
            load_plugin_file(path)


# --------------------------------------------------------------------------- entries_from
def relu_entry(origin: str = "") -> Any:
    """A new Entry (the registry's relu under another name)."""
    return dataclasses.replace(BY_NAME["relu"], name="mine.relu", origin=origin)


def test_entries_from_a_module_reads_targets_then_entries_with_the_origin() -> None:
    """TARGETS come first; both get the origin unless an Entry has its own."""
    class Source:
        ENTRIES = (relu_entry(), relu_entry("--plugin kept.py"))
        TARGETS = (Target(outside_layers.UpcastingSigmoid, "sigmoid", name="up.Sigmoid"),)

    found = entries_from(Source, "--plugin p.py", "--plugin p.py")  # a class: not called
    assert [e.name for e in found] == ["up.Sigmoid", "mine.relu", "mine.relu"]
    assert [e.origin for e in found] == ["--plugin p.py", "--plugin p.py", "--plugin kept.py"]
    assert found[0].outside and not found[1].outside
    assert found[1].layer is BY_NAME["relu"].layer
    assert entries_from(Source, "", "x")[1].origin == ""


def test_entries_from_a_list_a_tuple_or_a_callable_returning_one() -> None:
    """An entry point's object may be the list itself or a function that returns it."""
    target = Target(outside_layers.UpcastingSigmoid, "sigmoid", name="up.Sigmoid")
    for source in ([target], (target,), lambda: [target], lambda: (relu_entry(),)):
        found = entries_from(source, "o", "w")
        assert len(found) == 1 and found[0].origin == "o"
    assert entries_from(lambda: [target], "o", "w")[0].name == "up.Sigmoid"


@pytest.mark.parametrize(("source", "message"), [
    ([3], "where: expected Target or Entry objects, got int"),
    ([], "where: defines no TARGETS or ENTRIES"),
    (object(), "where: defines no TARGETS or ENTRIES"),
    ([Target(outside_layers.ContractLinear, "lenear", name="x")],
     "where: target 'x': like='lenear' is not a registry entry; known: "),
])
def test_entries_from_refuses_what_it_cannot_use(source: Any, message: str) -> None:
    """Each refusal starts with where the source came from."""
    with pytest.raises(TargetError) as caught:
        entries_from(source, "", "where")
    assert str(caught.value).startswith(message)
    assert caught.value.__cause__ is None


# --------------------------------------------------------------------------- load_targets
LINEAR = f"{MODULE}:ContractLinear"
SIGMOID_SPEC = f"{MODULE}:UpcastingSigmoid"


def test_load_targets_pairs_each_target_with_its_as_or_the_one_as() -> None:
    """One --as per --target, or one for all; names and origins say which."""
    found = load_targets([LINEAR, SIGMOID_SPEC], ["linear", "sigmoid"])
    assert [e.name for e in found] == [f"linear:{LINEAR}", f"sigmoid:{SIGMOID_SPEC}"]
    assert [e.origin for e in found] == [f"--target {LINEAR} --as linear",
                                         f"--target {SIGMOID_SPEC} --as sigmoid"]
    assert found[0].samples == BY_NAME["linear"].samples and found[0].outside
    assert found[1].samples == BY_NAME["sigmoid"].samples
    both = load_targets([LINEAR, f"{MODULE}.ContractLinear"], ["linear"])
    assert [e.name for e in both] == [f"linear:{LINEAR}", f"linear:{MODULE}.ContractLinear"]
    assert load_targets() == []


@pytest.mark.parametrize(("args", "message"), [
    (([LINEAR], []), "--target needs --as ENTRY: the registry entry whose samples and torch "
                     "reference apply (see parity check --list)"),
    (([], ["linear"]), "--as applies to a --target MODULE:ATTR, and none was given"),
    (([LINEAR, LINEAR, LINEAR], ["linear", "linear"]),
     "--as: give one --as ENTRY per --target (or one for all), got 2 for 3 targets"),
    (([LINEAR, SIGMOID_SPEC], ["linear", "sigmoid", "relu"]),
     "--as: give one --as ENTRY per --target (or one for all), got 3 for 2 targets"),
    (([LINEAR, LINEAR], ["linear"]), f"two targets are called 'linear:{LINEAR}': give them "
                                     "names"),
])
def test_load_targets_refuses_mismatched_or_repeated_options(args: tuple[list[str], list[str]],
                                                             message: str) -> None:
    """Usage errors say which option is wrong, before anything is checked."""
    with pytest.raises(TargetError) as caught:
        load_targets(*args)
    assert str(caught.value) == message


def test_an_unknown_as_names_the_option() -> None:
    """The registry's KeyError becomes a TargetError about --as."""
    with pytest.raises(TargetError) as caught:
        load_targets([LINEAR], ["lenear"])
    assert str(caught.value).startswith(f"--as lenear: target 'lenear:{LINEAR}': "
                                        "like='lenear' is not a registry entry")
    assert caught.value.__cause__ is None


def test_plugins_come_after_targets_with_a_quoted_origin(tmp_path: Path) -> None:
    """A path with a blank stays one word in the origin; the where keeps it as given."""
    (tmp_path / "my plugins").mkdir()
    plugin = tmp_path / "my plugins" / "p.py"
    plugin.write_text(plugin_text())
    found = load_targets([LINEAR], ["linear"], [str(plugin)])
    assert [e.name for e in found] == [f"linear:{LINEAR}", "up.Sigmoid"]
    assert found[1].origin == f"--plugin '{plugin}'"
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    with pytest.raises(TargetError, match=f"^--plugin {re.escape(str(empty))}: defines no "):
        load_targets(plugins=[str(empty)])
    again = tmp_path / "again.py"
    again.write_text(plugin_text())
    with pytest.raises(TargetError, match=re.escape("two targets are called 'up.Sigmoid'")):
        load_targets(plugins=[str(plugin), str(again)])


# --------------------------------------------------------------------------- installed_entries
class Point:
    """An entry point stand-in: ``load`` returns ``obj`` (or raises it)."""

    def __init__(self, name: str, obj: Any) -> None:
        self.name, self.value, self.obj = name, f"{name}.plugin:TARGETS", obj

    def load(self) -> Any:
        if isinstance(self.obj, Exception):
            raise self.obj
        return self.obj


def test_installed_entries_reads_every_point_of_the_group(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """All points of the group, in order, with no origin (nothing to repeat on a repro line)."""
    asked = []

    def entry_points(*, group: str) -> list[Point]:
        asked.append(group)
        return [Point("a", [Target(outside_layers.UpcastingSigmoid, "sigmoid", name="a.S")]),
                Point("b", lambda: [relu_entry()])]

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    found = installed_entries()
    assert asked == [ENTRY_POINT_GROUP] == ["numpy_torch_parity"]
    assert [(e.name, e.origin) for e in found] == [("a.S", ""), ("mine.relu", "")]


def test_an_entry_point_that_fails_to_load_or_provides_nothing_is_a_target_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The error names the entry point, its value and the exception."""
    points = [Point("demo", ImportError("no module x"))]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: points)
    with pytest.raises(TargetError) as caught:
        installed_entries()
    assert str(caught.value) == ("entry point demo (demo.plugin:TARGETS): loading it raised "
                                 "ImportError: no module x")
    assert isinstance(caught.value.__cause__, ImportError)
    points[0] = Point("demo", [])
    with pytest.raises(TargetError, match=re.escape(
            "entry point demo (demo.plugin:TARGETS): defines no TARGETS or ENTRIES")):
        installed_entries()
    assert targets.installed_entries is installed_entries


# --------------------------------------------------------------------------- pytest plugin
def run_plugin(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, list[Any]]:
    """Run pytest in-process in ``pytester``'s folder (a plugin file and one ordinary test
    there); return the result and the collected items' (name, seed)."""
    pytester.makepyfile(plugin=plugin_text())
    pytester.makepyfile(test_other="def test_other():\n    pass\n")
    pytester.makeconftest(
        "import json\n"
        "def pytest_collection_finish(session):\n"
        "    with open('items.json', 'w') as f:\n"
        "        json.dump([[i.name, getattr(i, 'seed', None)] for i in session.items], f)\n"
        "    with open('nodeids.json', 'w') as f:\n"
        "        json.dump([i.nodeid for i in session.items], f)\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly", *args)
    items = pytester.path / "items.json"
    return result, json.loads(items.read_text()) if items.exists() else []


JOB = "dtype-up.Sigmoid-float32-b64d32"


def test_the_plugin_does_nothing_without_its_options(pytester: pytest.Pytester) -> None:
    """Only the session's own tests run."""
    result, items = run_plugin(pytester, "test_other.py")
    result.assert_outcomes(passed=1)
    assert items == [["test_other", None]]


def test_a_parity_job_runs_that_job_alone_with_the_harness_message(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """--parity-job selects by exact id and deselects the session's tests."""
    monkeypatch.delenv("PARITY_SEED", raising=False)
    result, items = run_plugin(pytester, "--parity-plugin=plugin.py", "--parity-job", JOB,
                               "test_other.py")
    result.assert_outcomes(failed=1, deselected=1)
    assert items == [[JOB, 0]]
    assert json.loads((pytester.path / "nodeids.json").read_text()) == [f"::parity::{JOB}"]
    text = result.stdout.str()
    assert f"FAIL {JOB}" in text and "def runtest" not in text


def test_the_plugin_adds_every_job_of_a_target_and_takes_the_seed(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """--parity-target/--parity-as add the plan's jobs to the session's tests; the seed is
    --parity-seed, else PARITY_SEED."""
    from parity_tests.checks import plan

    monkeypatch.setenv("PARITY_SEED", "7")
    args = ["--collect-only", f"--parity-target={LINEAR}", "--parity-as=linear",
            "test_other.py"]
    ids = [job.id for job in plan(entries=load_targets([LINEAR], ["linear"]))]
    result, items = run_plugin(pytester, *args)
    assert result.ret == 0 and items == [["test_other", None]] + [[i, 7] for i in ids]
    _, items = run_plugin(pytester, *args, "--parity-seed=3")
    assert {seed for _, seed in items[1:]} == {3}
    _, items = run_plugin(pytester, "--collect-only", "--parity-plugin=plugin.py",
                          "--parity-job", JOB, "--parity-job", f"forward{JOB[5:]}")
    assert [name for name, _ in items] == [f"forward{JOB[5:]}", JOB]


def test_an_unknown_parity_job_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A job id these targets do not have stops the session with its name."""
    result, _ = run_plugin(pytester, "--parity-plugin=plugin.py", "--parity-job", JOB,
                           "--parity-job", "nope", "test_other.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--parity-job: no job 'nope' for these targets" in result.stderr.str()


# --------------------------------------------------------------------------- check_layer
def test_check_layer_counts_failures_and_errors_of_the_selected_checks() -> None:
    """FAIL and ERROR both raise, with every bad result's message; PASS/SKIP return."""
    with pytest.raises(AssertionError) as caught:
        check_layer(outside_layers.CrashingBackwardTanh, like="tanh", checks=["input-grad"])
    head = str(caught.value).splitlines()[0]
    count = re.fullmatch(r"(\d+) of (\d+) checks of tanh:\S+CrashingBackwardTanh failed:", head)
    assert count and count[1] == count[2] != "0"
    assert "numpy backward raised IndexError" in str(caught.value)
    # no repro line: a class given in code has no command line that rebuilds it
    assert "not a registry case" in str(caught.value) and "parity check" not in str(caught.value)
    assert str(caught.value).count("\n\nERROR input-grad-") == int(count[1])
    results = check_layer(outside_layers.ContractLinear, "linear", seed=5, checks=["forward"])
    assert results and {r.check for r in results} == {"forward"}
    assert {r.seed for r in results} == {5}
    assert {r.seed for r in check_layer(outside_layers.ContractLinear, "linear",
                                        checks=["forward"])} == {0}
    assert "pass" in {r.status for r in results}
    assert {r.status for r in results} <= {"pass", "skip"}


def test_check_layer_goes_through_the_given_adapter() -> None:
    """An adapter that supports nothing makes every check SKIP."""
    adapter = Adapter(supports=lambda config: "not this one")
    results = check_layer(outside_layers.UpcastingSigmoid, "sigmoid", adapter,
                          checks=["dtype"])
    assert results and {r.status for r in results} == {"skip"}
    assert {r.skipped for r in results} == {"not this one"}
