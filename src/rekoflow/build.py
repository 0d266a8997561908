"""Build the Lambda deployment artefacts: ``python -m rekoflow.build --out build``.

Reads ``functions/manifest.json`` and writes

- ``<out>/functions/<name>.zip`` for every function: the package ``functions/<name>/`` plus the
  shared ``functions/rekoflow_common/`` (handler path ``<name>.handler.lambda_handler``);
- ``<out>/layer.zip``: the third-party dependencies of ``functions/requirements.txt`` installed
  under ``python/`` (the layout Lambda layers use), for the Lambda runtime (manylinux2014 x86_64,
  CPython 3.11) when the package index offers wheels for it, else a plain install.

Zips are deterministic: sorted entries, a fixed timestamp, fixed permissions and no ``__pycache__``
or ``*.pyc``, so an unchanged source gives a byte-identical zip and Terraform's
``source_code_hash`` changes only when code does. Each artefact is rebuilt only when the hash of its
inputs (recorded in ``<out>/.hashes.json``) changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterable

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
COMMON_PACKAGE = "rekoflow_common"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
LAMBDA_PYTHON = "3.11"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
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


def load_manifest(functions_dir: Path = FUNCTIONS_DIR) -> dict:
    return json.loads((functions_dir / "manifest.json").read_text())["functions"]


class Builder:
    def __init__(self, out: Path, functions_dir: Path = FUNCTIONS_DIR, log=print) -> None:
        self.out = Path(out)
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
        for name in sorted(load_manifest(self.functions_dir)):
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
        base = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--no-compile", "--target", str(target), "-r", str(requirements)]
        cross = ["--platform", LAMBDA_PLATFORM, "--only-binary=:all:",
                 "--python-version", LAMBDA_PYTHON, "--implementation", "cp"]
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
        digest = _hash_entries([("requirements.txt", requirements)], extra=f"{LAMBDA_PLATFORM}/{LAMBDA_PYTHON}")
        if target.exists() and self.hashes.get(key) == digest:
            self.log(f"  {target} up to date")
            return target
        staging = self.out / "layer"
        site = staging / "python"
        mode = self._pip_install(requirements, site)
        entries = [(f"python/{p.relative_to(site).as_posix()}", p) for p in _files(site)]
        write_zip(target, entries)
        self.hashes[key] = digest
        self._save_hashes()
        self.log(f"  {target} built ({len(entries)} files, {mode} install)")
        return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build", help="output folder (default: build)")
    parser.add_argument("--functions-dir", default=str(FUNCTIONS_DIR), help="the functions/ tree")
    parser.add_argument("--skip-layer", action="store_true", help="build only the function zips")
    args = parser.parse_args(argv)
    builder = Builder(Path(args.out), Path(args.functions_dir))
    print(f"building Lambda artefacts into {args.out}/")
    builder.build_functions()
    if not args.skip_layer:
        builder.build_layer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
