"""Build the Lambda deployment artefacts: ``python -m rekoflow.build --out build``.

Reads ``functions/manifest.json`` and writes

- ``<out>/functions/<name>.zip`` for every function: the package ``functions/<name>/`` plus the
  shared ``functions/rekoflow_common/`` (handler path ``<name>.handler.lambda_handler``);
- ``<out>/layer.zip``: the third-party dependencies of ``functions/requirements.txt`` installed
  under ``python/`` (the layout Lambda layers use), for the Lambda runtime (manylinux2014 x86_64,
  CPython 3.11 unless ``--python-version`` says otherwise) when the package index offers wheels for
  it, else a plain install. The packages the Lambda runtime itself provides (boto3, botocore and
  their dependencies) are removed again: a layer's copy comes first on ``sys.path`` and would pair
  the runtime's boto3 with another botocore (aws-xray-sdk pulls botocore in);
- ``<out>/layer.json``: which runtime the layer was built for; Terraform's ``lambda_runtime`` must
  match it (a precondition in ``terraform/lambda.tf``).

Zips are deterministic: sorted entries, a fixed timestamp, fixed permissions and no ``__pycache__``
or ``*.pyc``, so an unchanged source gives a byte-identical zip and Terraform's
``source_code_hash`` changes only when code does. Each artefact is rebuilt only when the hash of its
inputs (recorded in ``<out>/.hashes.json``) changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

from rekoflow.paths import read_manifest

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
COMMON_PACKAGE = "rekoflow_common"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
LAMBDA_PYTHON = "3.11"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
# Distributions every Lambda Python runtime ships (boto3 and what it depends on): left out of the
# layer so the functions use the runtime's matching boto3/botocore pair (docs/deploy.md).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def _files(root: Path) -> list[Path]:
    """Every file under ``root`` that belongs in a zip, sorted."""
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in _SKIP_SUFFIXES and not path.name.startswith(".DS_Store"):
            out.append(path)
    return sorted(out, key=lambda p: p.as_posix())


def write_zip(target: Path, entries: Iterable[tuple[str, Path]]) -> None:
    """Write a deterministic zip of ``(archive_name, file)`` pairs."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permission bits below are honoured
            info.external_attr = (0o644 & 0xFFFF) << 16
            archive.writestr(info, path.read_bytes())
    tmp.replace(target)


def _hash_entries(entries: Iterable[tuple[str, Path]], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for name, path in sorted(entries, key=lambda e: e[0]):
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def function_entries(name: str, functions_dir: Path = FUNCTIONS_DIR) -> list[tuple[str, Path]]:
    """Archive entries of one function's zip: its package plus ``rekoflow_common``."""
    entries: list[tuple[str, Path]] = []
    for package in (name, COMMON_PACKAGE):
        package_dir = functions_dir / package
        if not package_dir.is_dir():
            if package == name:
                raise FileNotFoundError(f"function package {package_dir} listed in the manifest does not exist")
            continue  # rekoflow_common may not exist yet in a partial checkout
        for path in _files(package_dir):
            entries.append((f"{package}/{path.relative_to(package_dir).as_posix()}", path))
    return entries


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def prune_runtime_provided(site: Path, names: Iterable[str] = RUNTIME_PROVIDED) -> list[str]:
    """Remove the files of the installed distributions ``names`` from ``site``; returns those removed."""
    from importlib.metadata import distributions

    wanted = {_normalise(n) for n in names}
    removed = []
    for dist in distributions(path=[str(site)]):
        name = _normalise(dist.metadata["Name"] or "")
        if name not in wanted:
            continue
        # RECORD lists every installed file, the .dist-info folder's own files included.
        for file in dist.files or []:
            path = (site / file).resolve()
            if site.resolve() in path.parents and path.is_file():
                path.unlink()
        removed.append(name)
    # Folders left empty by the removal (package directories, __pycache__).
    for folder in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return sorted(removed)


def layer_metadata(python_version: str = LAMBDA_PYTHON) -> dict:
    """What ``<out>/layer.json`` records: the runtime the layer's wheels were chosen for."""
    return {
        "runtime": f"python{python_version}",
        "pythonVersion": python_version,
        "platform": LAMBDA_PLATFORM,
        "runtimeProvided": list(RUNTIME_PROVIDED),
    }


class Builder:
    def __init__(
        self, out: Path, functions_dir: Path = FUNCTIONS_DIR, log=print, python_version: str = LAMBDA_PYTHON
    ) -> None:
        self.out = Path(out)
        self.python_version = python_version
        self.functions_dir = Path(functions_dir)
        self.hash_file = self.out / ".hashes.json"
        self.log = log
        self.hashes: dict[str, str] = {}
        if self.hash_file.exists():
            try:
                self.hashes = json.loads(self.hash_file.read_text())
            except ValueError:
                self.hashes = {}

    def _save_hashes(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.hash_file.write_text(json.dumps(self.hashes, indent=2, sort_keys=True) + "\n")

    def build_functions(self) -> list[Path]:
        built = []
        for name in sorted(read_manifest(self.functions_dir)["functions"]):
            entries = function_entries(name, self.functions_dir)
            target = self.out / "functions" / f"{name}.zip"
            digest = _hash_entries(entries)
            key = f"function:{name}"
            if target.exists() and self.hashes.get(key) == digest:
                self.log(f"  {target} up to date")
            else:
                write_zip(target, entries)
                self.hashes[key] = digest
                self._save_hashes()
                self.log(f"  {target} built ({len(entries)} files)")
            built.append(target)
        return built

    def _pip_install(self, requirements: Path, target: Path) -> str:
        """Install the layer's packages into ``target``; returns which mode worked."""
        base = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "-r",
            str(requirements),
        ]
        cross = [
            "--platform",
            LAMBDA_PLATFORM,
            "--only-binary=:all:",
            "--python-version",
            self.python_version,
            "--implementation",
            "cp",
        ]
        for mode, cmd in (("lambda-platform", base + cross), ("plain", base)):
            if target.exists():
                shutil.rmtree(target)
            result = subprocess.run(cmd, capture_output=True, text=True)
            if result.returncode == 0:
                return mode
            self.log(f"  pip install ({mode}) failed: {result.stderr.strip().splitlines()[-1:]}")
        raise RuntimeError(f"could not install {requirements} into the layer")

    def build_layer(self) -> Path:
        requirements = self.functions_dir / "requirements.txt"
        target = self.out / "layer.zip"
        key = "layer"
        metadata = layer_metadata(self.python_version)
        digest = _hash_entries([("requirements.txt", requirements)], extra=json.dumps(metadata, sort_keys=True))
        (self.out).mkdir(parents=True, exist_ok=True)
        if target.exists() and self.hashes.get(key) == digest:
            (self.out / "layer.json").write_text(json.dumps(metadata, indent=2) + "\n")
            self.log(f"  {target} up to date")
            return target
        staging = self.out / "layer"
        site = staging / "python"
        mode = self._pip_install(requirements, site)
        removed = prune_runtime_provided(site)
        if removed:
            self.log(f"  left out of the layer (the Lambda runtime provides them): {', '.join(removed)}")
        entries = [(f"python/{p.relative_to(site).as_posix()}", p) for p in _files(site)]
        write_zip(target, entries)
        (self.out / "layer.json").write_text(json.dumps(metadata, indent=2) + "\n")
        self.hashes[key] = digest
        self._save_hashes()
        self.log(f"  {target} built ({len(entries)} files, {mode} install)")
        return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build", help="output folder (default: build)")
    parser.add_argument("--functions-dir", default=str(FUNCTIONS_DIR), help="the functions/ tree")
    parser.add_argument("--skip-layer", action="store_true", help="build only the function zips")
    parser.add_argument(
        "--python-version",
        default=LAMBDA_PYTHON,
        choices=("3.11", "3.12", "3.13"),
        help=f"CPython of the Lambda runtime the layer is built for (default {LAMBDA_PYTHON}); "
        "terraform's lambda_runtime must be python<this>",
    )
    args = parser.parse_args(argv)
    builder = Builder(Path(args.out), Path(args.functions_dir), python_version=args.python_version)
    print(f"building Lambda artefacts into {args.out}/")
    builder.build_functions()
    if not args.skip_layer:
        builder.build_layer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
