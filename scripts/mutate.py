"""`make mutate`: mutation testing of the shared function code and of the IAM checks (docs/reliability.md).

Not part of `make test` (it takes tens of minutes). Two parts:

- **Python** (mutmut): ``functions/rekoflow_common`` and ``functions/validate_request``. mutmut names
  mutants by module path and only strips a ``src/`` prefix, so the functions are staged as ``src/``
  in ``build/mutate/python`` (the tests import them as Lambda does: ``rekoflow_common...``) next to
  copies of the tests and data files they read; the real tree is never changed.
- **ASL** (a few mutants by hand, each undoing one guarantee of docs/reliability.md): the cache
  expiry check dropped, a Catch merging into the input again, the Rekognition timeout retries
  removed, the recorder not given the error; each must fail the reliability suite.
- **IAM** (own mutator, HCL is not Python): every action list of ``terraform/iam.tf`` is widened,
  one mutant at a time, to ``<service>:*`` and to ``*``, and every resource list to ``*``, in a
  copy of the repository (``build/mutate/iam``); each mutant must fail the least-privilege tests.

Prints the survivors and the survival rates, and writes them to ``build/mutate/summary.json``.
Usage: ``python scripts/mutate.py [python|asl|iam|all] [--max-children N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutate"
PYTHON = sys.executable

# What the Python mutants are tested with: the fast tests that exercise these modules (no stack).
PYTHON_TESTS = [
    "tests/functions/",
    "tests/workflow/test_timeouts.py",
    "tests/workflow/test_fail_states.py",
    "tests/reliability/test_units.py",
]
SOURCES = ["rekoflow_common/", "validate_request/"]
# Shared code of other issues' functions (Custom Labels), and the Powertools wiring of the handlers.
NOT_MUTATED = [
    "src/rekoflow_common/custom_labels.py",
    "src/rekoflow_common/model_versions.py",
    "src/rekoflow_common/handlers.py",
    "src/rekoflow_common/observability.py",
    "src/rekoflow_common/options.py",
    "src/validate_request/handler.py",
]
IAM_TESTS = [
    "tests/terraform/test_terraform_static.py::test_no_wildcard_actions_outside_the_kms_key_policy",
    "tests/terraform/test_terraform_static.py::test_resource_star_only_for_actions_without_resource_level_permissions",
]
IGNORED_IN_COPIES = shutil.ignore_patterns(
    ".venv*", "build", ".rekoflow", "out", "mutants", ".pytest_cache", "__pycache__", ".git", ".terraform*"
)


def stage_python() -> Path:
    stage = WORK / "python"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(ROOT / "functions", stage / "src", ignore=IGNORED_IN_COPIES)
    for data in ("functions", "statemachines", "terraform"):  # read as files by the tests (schema, manifest, ASL)
        shutil.copytree(ROOT / data, stage / data, ignore=IGNORED_IN_COPIES)
    shutil.copytree(ROOT / "tests", stage / "tests", ignore=IGNORED_IN_COPIES)
    pyproject = f"""
[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]
addopts = "-ra --strict-markers"
filterwarnings = ["ignore:No application metrics to publish:UserWarning"]
markers = ["engine: needs the local engine's models", "terraform: runs terraform"]

[tool.mutmut]
source_paths = {json.dumps(["src/" + s for s in SOURCES])}
do_not_mutate = {json.dumps(NOT_MUTATED)}
also_copy = ["src/", "functions/", "statemachines/", "terraform/"]
pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-x"]
pytest_add_cli_args_test_selection = {json.dumps(PYTHON_TESTS)}
"""
    (stage / "pyproject.toml").write_text(pyproject)
    return stage


def run_python(max_children: int) -> dict:
    stage = stage_python()
    subprocess.run([PYTHON, "-m", "mutmut", "run", "--max-children", str(max_children)], cwd=stage, check=False)
    listing = subprocess.run(
        [PYTHON, "-m", "mutmut", "results", "--all", "true"], cwd=stage, capture_output=True, text=True
    )
    statuses: dict[str, int] = {}
    survivors = []
    for line in listing.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        statuses[status] = statuses.get(status, 0) + 1
        if status == "survived":
            survivors.append(name)
    tested = statuses.get("killed", 0) + statuses.get("survived", 0) + statuses.get("timeout", 0)
    result = {
        "statuses": statuses,
        "tested": tested,
        "survived": statuses.get("survived", 0),
        "survival_rate": round(statuses.get("survived", 0) / tested, 4) if tested else None,
        "survivors": survivors,
    }
    print(f"python: {result['survived']} of {tested} mutants survived ({statuses})")
    for name in survivors:
        print("  survived:", name)
    return result


# ----- IAM ---------------------------------------------------------------------------------------------------
ACTION_LIST = re.compile(r"(\bactions\s*=\s*)\[([^\]]*)\]", re.S)
RESOURCE_LIST = re.compile(r"(\bresources\s*=\s*)\[([^\]]*)\]", re.S)


def iam_mutants(text: str) -> list[tuple[str, str]]:
    """(description, mutated iam.tf): one widening at a time."""
    mutants = []
    for match in ACTION_LIST.finditer(text):
        actions = re.findall(r'"([a-z0-9-]+):([A-Za-z*]+)"', match.group(2))
        if not actions or all(name == "AssumeRole" for _, name in actions):
            continue  # trust policies: not a permission grant
        line = text.count("\n", 0, match.start()) + 1
        service = actions[0][0]
        for widened in (f'"{service}:*"', '"*"'):
            mutated = text[: match.start()] + f"{match.group(1)}[{widened}]" + text[match.end() :]
            mutants.append((f"iam.tf:{line} actions {actions[0][0]}:{actions[0][1]}... -> [{widened}]", mutated))
    for match in RESOURCE_LIST.finditer(text):
        if '"*"' in match.group(2):
            continue
        line = text.count("\n", 0, match.start()) + 1
        mutated = text[: match.start()] + f'{match.group(1)}["*"]' + text[match.end() :]
        mutants.append((f'iam.tf:{line} resources -> ["*"]', mutated))
    return mutants


def run_iam() -> dict:
    stage = WORK / "iam"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(ROOT, stage, ignore=IGNORED_IN_COPIES)
    iam = stage / "terraform" / "iam.tf"
    original = iam.read_text()
    clean = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *IAM_TESTS], cwd=stage, capture_output=True, text=True
    )
    if clean.returncode != 0:
        raise SystemExit(f"the IAM tests fail on the unmutated copy:\n{clean.stdout[-2000:]}")
    survivors, tested = [], 0
    try:
        for description, mutated in iam_mutants(original):
            iam.write_text(mutated)
            tested += 1
            outcome = subprocess.run(
                [PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *IAM_TESTS],
                cwd=stage,
                capture_output=True,
                text=True,
            )
            killed = outcome.returncode != 0
            print(f"  {'killed  ' if killed else 'SURVIVED'} {description}")
            if not killed:
                survivors.append(description)
    finally:
        iam.write_text(original)
    result = {
        "tested": tested,
        "survived": len(survivors),
        "survival_rate": round(len(survivors) / tested, 4) if tested else None,
        "survivors": survivors,
    }
    print(f"iam: {len(survivors)} of {tested} widened grants survived")
    return result


# ----- ASL ---------------------------------------------------------------------------------------------------
def _inner(definition: dict) -> dict:
    return definition["States"]["Run analyses"]["ItemProcessor"]["States"]


def _drop_expiry_check(d: dict) -> None:
    _inner(d)["Cached result found?"]["Choices"][0]["Next"] = "Use cached result"


def _merge_failure_into_input(d: dict) -> None:
    for catch in d["States"]["Validate request"]["Catch"]:
        catch["ResultPath"] = "$.failure"


def _no_transient_retries(d: dict) -> None:
    for retry in _inner(d)["Detect labels"]["Retry"]:
        if "RekognitionTransientError" in retry["ErrorEquals"]:
            retry["MaxAttempts"] = 0


def _record_without_the_error(d: dict) -> None:
    d["States"]["Record failure"]["Parameters"]["Payload"]["failure.$"] = "$.failure"


ASL_MUTANTS = [
    (
        "cache served without its expiry check",
        _drop_expiry_check,
        "tests/reliability/test_faults.py::test_an_expired_cache_entry_is_not_served",
    ),
    (
        "Validate request's Catch merges into the input",
        _merge_failure_into_input,
        "tests/reliability/test_bad_inputs.py::test_input_that_is_not_an_object_ends_with_a_record",
    ),
    (
        "no retries of RekognitionTransientError",
        _no_transient_retries,
        "tests/reliability/test_faults.py::test_a_hanging_endpoint_ends_with_a_record_naming_the_timeout",
    ),
    (
        "the recorder is not given the error",
        _record_without_the_error,
        "tests/reliability/test_bad_inputs.py::test_missing_compare_target_ends_with_a_record",
    ),
]


def run_asl() -> dict:
    stage = WORK / "asl"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(ROOT, stage, ignore=IGNORED_IN_COPIES)
    path = stage / "statemachines" / "image_analysis.asl.json"
    original = path.read_text()
    survivors = []
    env = {**os.environ, "REKOFLOW_ROOT": str(stage)}  # the stack reads the ASL of the copy
    try:
        for description, mutate, test in ASL_MUTANTS:
            definition = json.loads(original)
            mutate(definition)
            path.write_text(json.dumps(definition, indent=2) + "\n")
            outcome = subprocess.run(
                [PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", test],
                cwd=stage,
                capture_output=True,
                text=True,
                env=env,
            )
            killed = outcome.returncode != 0
            print(f"  {'killed  ' if killed else 'SURVIVED'} {description} ({test})")
            if not killed:
                survivors.append(description)
    finally:
        path.write_text(original)
    return {"tested": len(ASL_MUTANTS), "survived": len(survivors), "survivors": survivors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", default="all", choices=["python", "asl", "iam", "all"])
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    summary_path = WORK / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    if args.part in ("python", "all"):
        summary["python"] = run_python(args.max_children)
    if args.part in ("asl", "all"):
        summary["asl"] = run_asl()
    if args.part in ("iam", "all"):
        summary["iam"] = run_iam()
    summary_path.write_text(json.dumps(summary, indent=2))
    print(f"summary: {summary_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
