"""The dependency layer leaves out what the Lambda runtime provides, and says which runtime it is for."""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

from rekoflow.build import RUNTIME_PROVIDED, layer_metadata, prune_runtime_provided


def _install_fake(site: Path, name: str, version: str, files: list[str]) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    for file in files:
        path = site / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# code\n")
    record = [f"{f},," for f in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def test_runtime_provided_distributions_are_removed_and_the_rest_kept(tmp_path):
    site = tmp_path / "python"
    _install_fake(site, "botocore", "1.40.0", ["botocore/__init__.py", "botocore/data/s3/service-2.json"])
    _install_fake(site, "python-dateutil", "2.9.0", ["dateutil/__init__.py"])
    _install_fake(site, "aws-xray-sdk", "2.14.0", ["aws_xray_sdk/__init__.py"])
    _install_fake(site, "jsonschema", "4.26.0", ["jsonschema/__init__.py"])
    removed = prune_runtime_provided(site)
    assert removed == ["botocore", "python-dateutil"]
    left = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert not any(p.startswith(("botocore", "dateutil")) for p in left), left
    assert "aws_xray_sdk/__init__.py" in left and "jsonschema/__init__.py" in left


def test_the_left_out_set_is_boto3_and_everything_it_depends_on():
    """What the runtime ships with boto3 is its dependency closure; aws-xray-sdk pulls botocore in."""

    def closure(name: str, seen: set[str]) -> set[str]:
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            return seen
        seen.add(key)
        for requirement in metadata.requires(name) or []:
            if "extra ==" in requirement:
                continue
            marker_ok = ";" not in requirement or "python_version" in requirement
            dependency = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            if marker_ok:
                closure(dependency, seen)
        return seen

    assert closure("boto3", set()) <= set(RUNTIME_PROVIDED)
    assert any(r.startswith("botocore") for r in metadata.requires("aws-xray-sdk"))


def test_layer_metadata_names_the_runtime_terraform_checks():
    assert layer_metadata("3.12") == {
        "runtime": "python3.12",
        "pythonVersion": "3.12",
        "platform": "manylinux2014_x86_64",
        "runtimeProvided": list(RUNTIME_PROVIDED),
    }
    tf = (Path(__file__).resolve().parents[2] / "terraform" / "lambda.tf").read_text()
    assert "local.layer.runtime == var.lambda_runtime" in tf
    assert json.dumps(layer_metadata())  # serialisable as build/layer.json
