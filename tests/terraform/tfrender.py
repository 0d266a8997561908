"""The Terraform root module rendered offline, every value as Terraform itself computes it.

``terraform test`` runs the module with a real (offline-configured) AWS provider in which *every*
resource and the caller-identity data source are overridden, so nothing is sent to AWS, while
everything the provider computes locally is real: ``aws_iam_policy_document`` JSON,
``aws_partition``, ``aws_region``, ``templatefile()`` of the ASL, locals, preconditions. With
``-json -verbose`` Terraform prints the resulting state, which is what this module returns.

Two passes: the first gives every resource its configured attributes (names, buckets); the second
gives each resource the ARN AWS would give it (``arn:<partition>:dynamodb:<region>:<account>:
table/<name>``, ...), so that policies built from resource attributes and policies built from
names (``local.function_arns``, execution ARNs) can be compared as strings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "terraform"
ACCOUNT = "123456789012"
KEY_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
API_ID = "a1b2c3d4e5"


class RenderError(RuntimeError):
    """terraform test failed: the module does not plan/apply with these variables."""


def _resources_in_module() -> list[tuple[str, str]]:
    out = []
    for path in sorted(TF_DIR.glob("*.tf")):
        out += re.findall(r'^resource\s+"([a-z0-9_]+)"\s+"([a-z0-9_]+)"', path.read_text(), re.M)
    return out


def _arn_values(rtype: str, attrs: Mapping[str, Any], ctx: Mapping[str, str]) -> dict[str, Any]:
    """The ARN-valued attributes AWS gives a resource of this type, from its configured attributes."""
    p, r, a = ctx["partition"], ctx["region"], ACCOUNT
    name = attrs.get("name") or ""
    formats: dict[str, Callable[[], dict[str, Any]]] = {
        "aws_kms_key": lambda: {"arn": f"arn:{p}:kms:{r}:{a}:key/{KEY_ID}", "key_id": KEY_ID, "id": KEY_ID},
        "aws_kms_alias": lambda: {"arn": f"arn:{p}:kms:{r}:{a}:{name}"},
        "aws_iam_role": lambda: {"arn": f"arn:{p}:iam::{a}:role/{name}", "id": name},
        "aws_s3_bucket": lambda: {"arn": f"arn:{p}:s3:::{attrs['bucket']}", "id": attrs["bucket"]},
        "aws_dynamodb_table": lambda: {"arn": f"arn:{p}:dynamodb:{r}:{a}:table/{name}", "id": name},
        "aws_cloudwatch_log_group": lambda: {"arn": f"arn:{p}:logs:{r}:{a}:log-group:{name}", "id": name},
        "aws_sfn_state_machine": lambda: {
            "arn": f"arn:{p}:states:{r}:{a}:stateMachine:{name}",
            "id": f"arn:{p}:states:{r}:{a}:stateMachine:{name}",
        },
        "aws_sns_topic": lambda: {"arn": f"arn:{p}:sns:{r}:{a}:{name}", "id": f"arn:{p}:sns:{r}:{a}:{name}"},
        "aws_sqs_queue": lambda: {
            "arn": f"arn:{p}:sqs:{r}:{a}:{name}",
            "id": f"https://sqs.{r}.amazonaws.com/{a}/{name}",
            "url": f"https://sqs.{r}.amazonaws.com/{a}/{name}",
        },
        "aws_scheduler_schedule": lambda: {"arn": f"arn:{p}:scheduler:{r}:{a}:schedule/default/{name}"},
        "aws_api_gateway_rest_api": lambda: {
            "id": API_ID,
            "root_resource_id": "root0",
            "arn": f"arn:{p}:apigateway:{r}::/restapis/{API_ID}",
            "execution_arn": f"arn:{p}:execute-api:{r}:{a}:{API_ID}",
        },
        "aws_api_gateway_stage": lambda: {
            "arn": f"arn:{p}:apigateway:{r}::/restapis/{API_ID}/stages/{attrs.get('stage_name')}",
            "execution_arn": f"arn:{p}:execute-api:{r}:{a}:{API_ID}/{attrs.get('stage_name')}",
            "invoke_url": f"https://{API_ID}.execute-api.{r}.amazonaws.com/{attrs.get('stage_name')}",
        },
        "aws_lambda_layer_version": lambda: {
            "arn": f"arn:{p}:lambda:{r}:{a}:layer:{attrs['layer_name']}:1",
            "layer_arn": f"arn:{p}:lambda:{r}:{a}:layer:{attrs['layer_name']}",
        },
        "aws_lambda_function": lambda: _function_arns(p, r, a, attrs["function_name"]),
    }
    return formats[rtype]() if rtype in formats else {}


def _function_arns(p: str, r: str, a: str, name: str) -> dict[str, Any]:
    arn = f"arn:{p}:lambda:{r}:{a}:function:{name}"
    return {
        "arn": arn,
        "qualified_arn": f"{arn}:$LATEST",
        "invoke_arn": f"arn:{p}:apigateway:{r}:lambda:path/2015-03-31/functions/{arn}/invocations",
    }


def _placeholder_arns(rtype: str, rname: str) -> dict[str, str]:
    """Pass 1: ARN-shaped values where the provider validates an ARN (the real ones come in pass 2)."""
    fake = f"arn:aws:fake:us-east-1:{ACCOUNT}:{rtype}/{rname}"
    attrs = {
        "aws_kms_key": ["arn"],
        "aws_iam_role": ["arn"],
        "aws_lambda_layer_version": ["arn", "layer_arn"],
        "aws_s3_bucket": ["arn"],
        "aws_dynamodb_table": ["arn"],
        "aws_cloudwatch_log_group": ["arn"],
        "aws_sfn_state_machine": ["arn"],
        "aws_sns_topic": ["arn"],
        "aws_sqs_queue": ["arn"],
        "aws_lambda_function": ["arn", "invoke_arn", "qualified_arn"],
        "aws_scheduler_schedule": ["arn"],
        "aws_api_gateway_rest_api": ["arn", "execution_arn"],
        "aws_api_gateway_stage": ["arn", "execution_arn"],
    }.get(rtype, [])
    return {name: f"{fake}/{name}" for name in attrs}


def _hcl(value: Any) -> str:
    # JSON is valid HCL expression syntax (HCL object constructors accept ':').
    return json.dumps(value)


@dataclass
class Rendered:
    """The state Terraform computed: ``resources[address] = values``."""

    variables: dict[str, Any]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, rtype: str, mode: str = "managed") -> dict[str, dict[str, Any]]:
        prefix = ("data." if mode == "data" else "") + rtype + "."
        return {addr: v for addr, v in self.resources.items() if addr.startswith(prefix)}

    def __getitem__(self, address: str) -> dict[str, Any]:
        return self.resources[address]

    def get(self, address: str) -> dict[str, Any] | None:
        return self.resources.get(address)

    @property
    def partition(self) -> str:
        return self["data.aws_partition.current"]["partition"]

    @property
    def region(self) -> str:
        return self["data.aws_region.current"]["name"]


class Renderer:
    """One working copy of the module, initialised once, rendered with any variables."""

    def __init__(self, work: Path | None = None, terraform_dir: Path = TF_DIR) -> None:
        if shutil.which("terraform") is None:
            raise RenderError("terraform is not installed (the project requires it: make tf-check, make tf-local)")
        self.work = Path(work or tempfile.mkdtemp(prefix="rekoflow-tfrender-"))
        self.module = self.work / "terraform"
        self.build = self.work / "build"
        self.source = terraform_dir
        self._prepare()

    def _prepare(self) -> None:
        self.module.mkdir(parents=True, exist_ok=True)
        for path in self.source.iterdir():
            if path.is_file() and (path.suffix == ".tf" or path.suffix == ".json"):
                shutil.copy2(path, self.module / path.name)
        # The API's declaration and mapping templates (terraform/api/).
        shutil.copytree(self.source / "api", self.module / "api", dirs_exist_ok=True)
        for sibling in ("functions", "statemachines"):
            link = self.work / sibling
            if not link.exists():
                link.symlink_to(ROOT / sibling)
        (self.build / "functions").mkdir(parents=True, exist_ok=True)
        manifest = json.loads((ROOT / "functions" / "manifest.json").read_text())["functions"]
        for name in manifest:
            (self.build / "functions" / f"{name}.zip").write_bytes(b"placeholder")
        (self.build / "layer.zip").write_bytes(b"placeholder")
        from rekoflow.build import layer_metadata

        (self.build / "layer.json").write_text(json.dumps(layer_metadata()) + "\n")
        self.env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_DATA_DIR": str(self.work / "tfdata")}
        mirror = os.environ.get("TF_PLUGIN_MIRROR") or _find_mirror()
        if mirror:
            rc = self.work / "terraformrc"
            rc.write_text(
                f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{mirror}"\n'
                '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
                '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
            )
            self.env["TF_CLI_CONFIG_FILE"] = str(rc)
        result = subprocess.run(
            ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
            cwd=self.module,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RenderError(f"terraform init failed:\n{result.stdout}\n{result.stderr}")

    def _run(self, variables: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        region = variables.get("region", "us-east-1")
        lines = [
            'provider "aws" {',
            f"  region                      = {_hcl(region)}",
            '  access_key                  = "testing"',
            '  secret_key                  = "testing"',
            "  skip_credentials_validation = true",
            "  skip_requesting_account_id  = true",
            "  skip_metadata_api_check     = true",
            "  skip_region_validation      = true",
            "}",
            "variables {",
            *(f"  {name} = {_hcl(value)}" for name, value in {"build_dir": str(self.build), **variables}.items()),
            "}",
            "override_data {",
            "  target = data.aws_caller_identity.current",
            f'  values = {{ account_id = "{ACCOUNT}", arn = "arn:aws:iam::{ACCOUNT}:root", id = "{ACCOUNT}" }}',
            "}",
        ]
        # Every resource is overridden: nothing is ever sent to AWS.
        for rtype, rname in _resources_in_module():
            address = f"{rtype}.{rname}"
            lines.append("override_resource {")
            lines.append(f"  target = {address}")
            lines.append(f"  values = {_hcl(dict(overrides.get(address, {})))}")
            lines.append("}")
        for address, values in overrides.items():
            if "[" in address:  # one instance of a for_each/count resource
                lines += ["override_resource {", f"  target = {address}", f"  values = {_hcl(dict(values))}", "}"]
        lines += ['run "render" {', "  command = apply", "}"]
        test_file = self.module / "render.tftest.hcl"
        test_file.write_text("\n".join(lines) + "\n")
        result = subprocess.run(
            ["terraform", "test", "-json", "-verbose", "-no-color"],
            cwd=self.module,
            env=self.env,
            capture_output=True,
            text=True,
        )
        messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        errors = [
            m["@message"] + ": " + (m.get("diagnostic") or {}).get("detail", "")
            for m in messages
            if m.get("type") == "diagnostic" and m.get("@level") == "error"
        ]
        states = [m["test_state"] for m in messages if m.get("type") == "test_state"]
        if result.returncode != 0 or errors or not states:
            raise RenderError(
                "terraform test failed:\n"
                + "\n".join(dict.fromkeys(errors))
                + ("\n" + result.stderr if result.stderr else "")
            )
        resources: dict[str, dict[str, Any]] = {}
        for resource in states[-1]["root_module"].get("resources", []):
            resources[resource["address"]] = resource.get("values", {})
        return resources

    def render(self, variables: Mapping[str, Any] | None = None) -> Rendered:
        variables = dict(variables or {})
        first = self._run(variables, {f"{t}.{n}": _placeholder_arns(t, n) for t, n in _resources_in_module()})
        ctx = {
            "partition": first["data.aws_partition.current"]["partition"],
            "region": first["data.aws_region.current"]["name"],
        }
        overrides: dict[str, dict[str, Any]] = {}
        for address, values in first.items():
            if address.startswith("data."):
                continue
            rtype = address.split(".", 1)[0]
            arns = _arn_values(rtype, values, ctx)
            if arns:
                overrides[address] = arns
        # Resources without instance keys take their values from the plain address; instances of
        # for_each/count resources need their own override (the address with the key).
        plain = {a: v for a, v in overrides.items() if "[" not in a}
        keyed = {a: v for a, v in overrides.items() if "[" in a}
        second = self._run(variables, {**plain, **keyed})
        return Rendered(variables, second)


def _find_mirror() -> str | None:
    for candidate in ("/opt/tf-plugins",):
        if (Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return candidate
    return None
