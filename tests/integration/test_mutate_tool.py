"""tools/mutate.py: a mutant is applied only where it is meant to be, the file always comes back, and the
result says what happened (killed, survived, timeout, stale, equivalent)."""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import subprocess
import sys
import time
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "mutate.py"
RULES = {f"R{n}" for n in range(1, 16)}


def _load_tool():
    spec = importlib.util.spec_from_file_location("atm_tools_mutate", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


mutate = _load_tool()

CORE = "def one():\n    return 1\n\n\ndef two():\n    return 2  # two\n"
TESTS = (
    "import sys\n\nfrom calc.core import one, two\n\n\n"
    "def test_one():\n    assert one() == 1\n\n\n"
    "def test_two_is_even():\n    assert two() % 2 == 0\n\n\n"
    "def test_no_bytecode_is_written():\n    assert sys.dont_write_bytecode\n"
)
MUTANTS = """
[[mutant]]
name = "one-is-seven"
rule = "R1"
file = "calc/core.py"
original = "return 1"
replacement = "return 7"

[[mutant]]
name = "two-is-four"
rule = "R2"
file = "calc/core.py"
original = "return 2  # two"
replacement = "return 4  # two"

[[mutant]]
name = "gone"
rule = "unique booking"
file = "calc/core.py"
original = "return 3"
replacement = "return 4"

[[mutant]]
name = "same-thing"
rule = "R3"
file = "calc/core.py"
original = "# two"
replacement = "# 2"
equivalent = "a comment"
"""


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "core.py").write_text(CORE)
    (root / "tests" / "test_core.py").write_text(TESTS)
    (root / "mutants.toml").write_text(MUTANTS)
    return root


def mutant(**kw):
    base = dict(name="m", rule="R1", file="calc/core.py", original="return 1", replacement="return 7")
    return mutate.Mutant(**dict(base, **kw))


# --- the mutants file of this repository ----------------------------------------------------------------


def test_the_repository_mutants_file_loads_and_covers_every_rule():
    mutants = mutate.load_mutants(TOOL.parent / "mutants.toml")
    assert len(mutants) >= 40
    assert RULES <= {m.rule for m in mutants}
    assert all(m.file.startswith("atm/") for m in mutants)
    assert all(m.equivalent is None or len(m.equivalent) > 20 for m in mutants), "an equivalent mutant says why"


# --- applying one mutant -------------------------------------------------------------------------------------


def test_a_mutant_is_in_place_while_the_tests_run_and_the_file_is_restored_exactly(project):
    core = project / "calc" / "core.py"
    before = core.read_bytes()
    seen = []

    (project / "calc" / "__pycache__").mkdir()  # a cache of the original code

    def run():
        seen.append(core.read_text())
        assert not (project / "calc" / "__pycache__").exists(), "cleared before the tests run"
        (project / "calc" / "__pycache__").mkdir()  # what an import of the mutant would leave behind
        return 1, "...\nFAILED tests/test_core.py::test_one - assert 7 == 1\nFAILED tests/x.py::test_b\n"

    outcome = mutate.run_mutant(project, mutant(), run, cache_dirs=[project / "calc"])
    assert seen == [CORE.replace("return 1", "return 7")]
    assert (outcome.result, outcome.first_failure) == ("killed", "tests/test_core.py::test_one")
    assert core.read_bytes() == before
    assert not (project / "calc" / "__pycache__").exists()


@pytest.mark.parametrize("problem", [KeyboardInterrupt, RuntimeError])
def test_the_file_is_restored_when_the_run_is_interrupted_or_fails(project, problem):
    core = project / "calc" / "core.py"

    def run():
        assert "return 7" in core.read_text()
        raise problem()

    with pytest.raises(problem):
        mutate.run_mutant(project, mutant(), run, cache_dirs=[project / "calc"])
    assert core.read_text() == CORE


@pytest.mark.parametrize("original, found", [("return 3", 0), ("return", 2), ("\n\n", 2)])
def test_text_that_is_missing_or_repeated_is_stale_and_never_applied(project, original, found):
    def run():
        raise AssertionError("a stale mutant must not run")

    outcome = mutate.run_mutant(project, mutant(original=original), run, cache_dirs=[])
    assert outcome.result == "stale" and f"found {found} times" in outcome.detail
    assert (project / "calc" / "core.py").read_text() == CORE


def test_overlapping_places_count_as_repeated():
    assert mutate.occurrences("aaa", "aa") == 2


@pytest.mark.parametrize("code, result", [(None, "timeout"), (0, "survived"), (1, "killed"), (2, "killed"),
                                          (4, "error"), (5, "error")])
def test_pytest_exit_codes_become_results(code, result):
    assert mutate.classify(code, "tail")[0] == result


# --- the mutants file ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra, says", [
    ('colour = "red"', "unknown key 'colour'"),
    ('rule = "R16"', "not one of R1-R15"),
    ('replacement = "return 1"', "the replacement is the original"),
    ('file = "../elsewhere.py"', "inside the repository"),
    ('equivalent = ""', "equivalent must be a non-empty reason"),
])
def test_a_bad_mutant_is_refused_naming_it(tmp_path, extra, says):
    key = extra.split(" ")[0]
    lines = [f'{k} = "{v}"' for k, v in dict(name="m", rule="R1", file="calc/core.py", original="return 1",
                                                replacement="return 7").items() if k != key]
    (tmp_path / "m.toml").write_text("[[mutant]]\n" + "\n".join(lines + [extra]) + "\n")
    with pytest.raises(mutate.UsageError, match=says) as refused:
        mutate.load_mutants(tmp_path / "m.toml")
    assert "mutant[0] (m)" in str(refused.value)


def test_two_mutants_with_one_name_are_refused(tmp_path):
    one = '[[mutant]]\nname = "m"\nrule = "R1"\nfile = "a.py"\noriginal = "x"\nreplacement = "y"\n'
    (tmp_path / "m.toml").write_text(one + one)
    with pytest.raises(mutate.UsageError, match="used twice"):
        mutate.load_mutants(tmp_path / "m.toml")


def test_only_picks_by_name_or_rule_and_refuses_what_names_nothing(project):
    mutants = mutate.load_mutants(project / "mutants.toml")
    assert [m.name for m in mutate.select(mutants, ["r2", "GONE"])] == ["two-is-four", "gone"]
    assert [m.name for m in mutate.select(mutants, ["unique booking"])] == ["gone"]
    with pytest.raises(mutate.UsageError, match="'r9' names no mutant"):
        mutate.select(mutants, ["r9"])


# --- whole runs ------------------------------------------------------------------------------------------------------


def run_tool(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ATM_TEST_DB"}  # the tool's own legs, on either leg
    return subprocess.run([sys.executable, str(TOOL), "--root", str(project), "--mutants",
                           str(project / "mutants.toml"), *args], capture_output=True, text=True, timeout=120,
                          env=env)


def test_a_run_prints_the_kill_table_and_fails_while_a_mutant_survives(project, tmp_path):
    # An unchecked-hash .pyc is trusted whatever the source says: unless the tool clears the bytecode
    # caches, the same-size mutant 'return 7' would run as the cached 'return 1' and survive.
    py_compile.compile(str(project / "calc" / "core.py"),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    out = tmp_path / "out.json"
    done = run_tool(project, "--allow-dirty", "--json-out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    results = {r["name"]: r for r in json.loads(out.read_text())["results"]}
    assert {n: r["result"] for n, r in results.items()} == {
        "one-is-seven": "killed", "two-is-four": "survived", "gone": "stale", "same-thing": "equivalent"}
    assert results["one-is-seven"]["first_failure"] == "tests/test_core.py::test_one"
    assert json.loads(out.read_text())["missed"] == ["two-is-four", "gone"]
    assert "one-is-seven" in done.stdout and "first failing test" in done.stdout
    assert "not caught: two-is-four (survived), gone (stale)" in done.stdout
    assert "baseline: passed" in done.stderr
    assert (project / "calc" / "core.py").read_text() == CORE
    assert not list(project.rglob("__pycache__"))


def test_a_run_where_every_mutant_is_killed_exits_0(project):
    done = run_tool(project, "--allow-dirty", "--no-baseline", "--only", "one-is-seven", "--only", "same-thing")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 mutants: 1 equivalent, 1 killed" in done.stdout


def test_a_suite_that_fails_without_mutants_is_refused_before_any_mutant(project):
    (project / "tests" / "test_broken.py").write_text("def test_broken():\n    assert False\n")
    done = run_tool(project, "--allow-dirty")
    assert done.returncode == 2
    assert "does not pass without mutants" in done.stderr
    assert "[1/" not in done.stderr


def test_a_timeout_ends_every_process_of_the_suite_and_is_not_a_kill(project, tmp_path):
    pid_file = tmp_path / "sleeper.pid"
    (project / "tests" / "test_slow.py").write_text(
        "import subprocess, time\n\n\n"
        "def test_slow():\n"
        f"    sleeper = subprocess.Popen(['sleep', '60'])\n"
        f"    open({str(pid_file)!r}, 'w').write(str(sleeper.pid))\n"
        "    time.sleep(60)\n")
    started = time.monotonic()
    done = run_tool(project, "--allow-dirty", "--no-baseline", "--only", "one-is-seven", "--timeout", "3",
                    "--pytest-args=-q -p no:cacheprovider tests/test_slow.py")
    assert time.monotonic() - started < 30
    assert done.returncode == 1, done.stdout + done.stderr
    assert "timeout" in done.stdout and "not caught: one-is-seven (timeout)" in done.stdout
    pid = int(pid_file.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert (project / "calc" / "core.py").read_text() == CORE


def test_uncommitted_changes_under_the_mutated_folder_refuse_the_run(project):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "start"]):
        subprocess.run(git + args, cwd=project, check=True, capture_output=True)
    (project / "calc" / "core.py").write_text(CORE + "# edited\n")
    done = run_tool(project)
    assert done.returncode == 2
    assert "uncommitted changes under calc" in done.stderr and "--allow-dirty" in done.stderr
    assert (project / "calc" / "core.py").read_text() == CORE + "# edited\n"


def test_list_shows_each_mutant_and_whether_it_applies(project):
    done = run_tool(project, "--list")
    assert done.returncode == 0
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[2:]}
    assert rows["one-is-seven"].endswith("applies") and "found 0 times" in rows["gone"]
    assert rows["same-thing"].endswith("equivalent")


def test_the_default_run_orders_every_test_file_once_with_the_rule_tests_first_and_the_slow_property_last():
    root = TOOL.parents[1]
    order = mutate.ordered_tests(root)
    on_disk = sorted(p.relative_to(root).as_posix() for p in (root / "tests").rglob("test_*.py"))
    assert sorted(order) == on_disk and len(order) == len(set(order))
    assert order.index("tests/cli/test_rules.py") < order.index("tests/cli/test_accounts_assets.py")
    assert order[-1] == "tests/integration/test_workflow_stateful.py"
    assert all(f.startswith("tests/unit/") for f in order[:3])


@pytest.mark.parametrize("args, named", [
    (["-x", "-q", "-p", "no:cacheprovider"], False),
    (["-x", "--hypothesis-seed=0", "-k", "r5"], False),
    (["-x", "tests/unit"], True),
    (["tests/cli/test_rules.py::test_r3_a_transfer_to_the_same_account_and_va_is_refused"], True),
])
def test_tests_named_in_the_pytest_arguments_are_kept_as_given(args, named):
    assert mutate.names_tests(args) is named


def test_a_bad_leg_is_refused(tmp_path):
    (tmp_path / "m.toml").write_text('[[mutant]]\nname = "m"\nrule = "R1"\nfile = "a.py"\noriginal = "x"\n'
                                     'replacement = "y"\nleg = "oracle"\n')
    with pytest.raises(mutate.UsageError, match="leg must be one of sqlite, postgresql"):
        mutate.load_mutants(tmp_path / "m.toml")


LEG_MUTANTS = """
[[mutant]]
name = "on-the-file"
rule = "R1"
file = "calc/core.py"
original = "# two"
replacement = "# 2"

[[mutant]]
name = "on-the-server"
rule = "R1"
leg = "postgresql"
file = "calc/core.py"
original = "# two"
replacement = "# 2"
"""


def test_a_postgresql_mutant_runs_the_suite_against_the_server_and_is_never_run_without_one(project, tmp_path):
    import socket

    # The project's suite fails when it is pointed at a server: only the postgresql mutant's run is.
    (project / "tests" / "test_leg.py").write_text(
        "import os\n\n\ndef test_the_file_leg():\n    assert 'ATM_TEST_DB' not in os.environ\n")
    (project / "mutants.toml").write_text(LEG_MUTANTS)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        server = f"postgresql://root@127.0.0.1:{listener.getsockname()[1]}/test"
        done = run_tool(project, "--allow-dirty", "--no-baseline", "--server", server, "--json-out",
                        str(tmp_path / "up.json"))
    results = {r["name"]: r["result"] for r in json.loads((tmp_path / "up.json").read_text())["results"]}
    assert results == {"on-the-file": "survived", "on-the-server": "killed"}, done.stdout + done.stderr
    # Nothing listens on the port any more: the mutant is not run and is not a kill.
    done = run_tool(project, "--allow-dirty", "--no-baseline", "--server", server, "--only", "on-the-server")
    assert done.returncode == 1
    assert "needs the PostgreSQL leg: nothing answers at" in done.stdout
    assert (project / "calc" / "core.py").read_text() == CORE


def test_a_server_that_is_not_postgresql_is_refused(project):
    done = run_tool(project, "--allow-dirty", "--server", "sqlite:///elsewhere.db")
    assert done.returncode == 2
    assert "--server must be a postgresql:// URL" in done.stderr
