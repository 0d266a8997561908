"""``make tf-local``: apply the real Terraform root module to the local stack, use it, destroy it.

1. start a bare local stack (``rekoflow.local.stack``, the same server and patches ``rekoflow up``
   runs, with none of its own resources and a throwaway state folder) on a free 127.0.0.1 port;
2. make a temporary working copy of ``terraform/`` with ``terraform/local/provider_override.tf``
   added (fake credentials, every endpoint at the stack); ``functions/``, ``statemachines/`` and
   ``build/`` are linked next to it so the module's relative paths resolve unchanged;
3. ``terraform init`` (from the provider mirror when ``TF_PLUGIN_MIRROR`` is set) and
   ``terraform apply -auto-approve``;
4. check every deployed function's environment is the one the manifest declares (the same
   declaration the local stack reads); upload a generated 200x200 PNG to the deployed images
   bucket, start an execution of the deployed image-analysis state machine, wait, and check it
   SUCCEEDED and its DynamoDB record exists; run the deployed Custom Labels sweep (it queries the
   table's model-lease-index);
5. ``terraform destroy -auto-approve`` and check that no bucket, table, function, state machine,
   role, log group, topic, queue or API is left in the stack.

Exit status 0 only when every step passed. Timings of each step are printed. After a failure the
whole cycle is tried once more from scratch (``--attempts``), with the first attempt's log, its
terraform error and the stack's incidents (5xx answers, exceptions) printed: a fault in the
module fails both attempts; a response lost by the stack's dev server under load does not.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rekoflow.local import declarations, patches
from rekoflow.local.stack import REGION, Stack, StackConfig
from rekoflow.paths import project_root
from rekoflow.records import TERMINAL_STATUSES

REPO_ROOT = project_root()
# The services the Terraform root module uses; each gets an endpoint override (all the stack's one endpoint).
TERRAFORM_SERVICES = (
    "apigateway",
    "cloudwatch",
    "logs",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "s3",
    "scheduler",
    "sfn",
    "sns",
    "sqs",
    "sts",
)

TERRAFORM_DIR = REPO_ROOT / "terraform"
LINKED = ("statemachines",)


class TfLocalError(RuntimeError):
    pass


class Timer:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"==> {name}", flush=True)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.steps.append((name, elapsed))
            print(f"    {name}: {elapsed:.1f}s", flush=True)

    def report(self) -> str:
        lines = [f"  {name:<38} {seconds:7.1f}s" for name, seconds in self.steps]
        lines.append(f"  {'total':<38} {sum(s for _, s in self.steps):7.1f}s")
        return "\n".join(lines)


def _tfvars(path: Path) -> dict[str, Any]:
    """The simple ``name = value`` lines of a .tfvars file (strings and numbers)."""
    import re

    values: dict[str, Any] = {}
    for line in path.read_text().splitlines():
        match = re.match(r'^\s*([a-z0-9_]+)\s*=\s*"?([^"#]*?)"?\s*(#.*)?$', line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def png_bytes(size: int = 200) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (30, 120, 200))
    ImageDraw.Draw(image).ellipse((size // 4, size // 4, 3 * size // 4, 3 * size // 4), fill=(240, 200, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_working_copy(work: Path, build_dir: Path) -> Path:
    """``work/terraform`` = the root module + the local provider override; siblings are links."""
    module = work / "terraform"
    module.mkdir(parents=True)
    for path in TERRAFORM_DIR.iterdir():
        # .json: terraform/results_table.json, which locals.tf reads (file("${path.module}/...")).
        if path.is_file() and (path.suffix in (".tf", ".json") or path.name == ".terraform.lock.hcl"):
            shutil.copy2(path, module / path.name)
    # The API's declaration and mapping templates, read with file()/templatefile().
    shutil.copytree(TERRAFORM_DIR / "api", module / "api")
    shutil.copy2(TERRAFORM_DIR / "local" / "provider_override.tf", module / "provider_override.tf")
    for name in LINKED:
        (work / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    # functions/: links to the packages, but a snapshot of the manifest, so that apply and destroy
    # see the same set of functions even if the manifest changes meanwhile.
    functions = work / "functions"
    functions.mkdir()
    for path in (REPO_ROOT / "functions").iterdir():
        if path.name == "manifest.json":
            shutil.copy2(path, functions / path.name)
        else:
            (functions / path.name).symlink_to(path, target_is_directory=path.is_dir())
    (work / "build").symlink_to(build_dir.resolve(), target_is_directory=True)
    return module


def terraform_env(work: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "TF_DATA_DIR": str(work / "tfdata"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    mirror = os.environ.get("TF_PLUGIN_MIRROR")
    if mirror:
        rc = work / "terraformrc"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
        )
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    return env


def terraform(module: Path, env: dict[str, str], *args: str, log: Path) -> str:
    """Run terraform, streaming its output to ``log``; return the output of this command."""
    cmd = ["terraform", f"-chdir={module}", *args]
    with open(log, "a") as handle:
        handle.write(f"\n$ {' '.join(cmd)}\n")
        handle.flush()
        start = handle.tell()
        result = subprocess.run(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT, text=True)
    with open(log) as handle:
        handle.seek(start)
        output = handle.read()
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-60:])
        raise TfLocalError(f"terraform {args[0]} failed (exit {result.returncode}); log: {log}\n{tail}")
    return output


def slowest_resources(output: str, limit: int = 5) -> list[str]:
    """The resources that took longest, from terraform's "Creation complete after Ns" lines."""
    import re

    found = []
    for match in re.finditer(r"^(\S+): (?:Creation|Destruction) complete after (?:(\d+)m)?(\d+)s", output, re.M):
        found.append((int(match.group(2) or 0) * 60 + int(match.group(3)), match.group(1)))
    return [f"{name} {seconds}s" for seconds, name in sorted(found, reverse=True)[:limit] if seconds > 1]


def run_execution(emulator: Stack, outputs: dict[str, Any], timeout_s: float = 120.0) -> dict[str, Any]:
    s3 = emulator.client("s3")
    sfn = emulator.client("stepfunctions")
    ddb = emulator.client("dynamodb")
    bucket = outputs["images_bucket"]
    key = "uploads/tf-local/circle.png"
    s3.put_object(Bucket=bucket, Key=key, Body=png_bytes(), ContentType="image/png")
    request = {"requestId": "tf-local-1", "image": {"bucket": bucket, "key": key}, "analyses": ["labels"]}
    started = sfn.start_execution(
        stateMachineArn=outputs["image_analysis_state_machine_arn"],
        name=request["requestId"],
        input=json.dumps(request),
    )
    described = _succeeded(sfn, started["executionArn"], timeout_s)
    item = ddb.get_item(TableName=outputs["results_table"], Key={"pk": {"S": request["requestId"]}}).get("Item")
    if not item:
        raise TfLocalError(f"no record with pk {request['requestId']} in {outputs['results_table']}")
    if item.get("status", {}).get("S") != "SUCCEEDED":
        raise TfLocalError(f"record status is {item.get('status')}, expected SUCCEEDED")
    return {"execution": described, "item": item}


def _succeeded(sfn: Any, execution_arn: str, timeout_s: float) -> dict[str, Any]:
    """Wait for the execution to end; its description if it SUCCEEDED."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] in TERMINAL_STATUSES:
            break
        if time.monotonic() > deadline:
            raise TfLocalError(f"execution still {described['status']} after {timeout_s:.0f}s")
        time.sleep(0.2)
    if described["status"] != "SUCCEEDED":
        raise TfLocalError(f"execution {described['status']}: {described.get('error')} {described.get('cause')}")
    return described


def run_sweep(emulator: Stack, outputs: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
    """The deployed Custom Labels idle-stop machine as its schedule starts it: it queries the table's
    model-lease-index (which must exist) and finds no model in use."""
    sfn = emulator.client("stepfunctions")
    arn = outputs["custom_labels_state_machine_arns"]["custom_labels_idle_stop"]
    started = sfn.start_execution(stateMachineArn=arn, name="tf-local-sweep", input=json.dumps({"sweep": True}))
    output = json.loads(_succeeded(sfn, started["executionArn"], timeout_s)["output"])
    if output.get("models") != [] or output.get("active") != 0:
        raise TfLocalError(f"the sweep of an empty table found models: {output}")
    return output


def use_the_api_and_the_trigger(
    emulator: Stack, outputs: dict[str, Any], stage: str = "v1", timeout_s: float = 120.0
) -> dict[str, Any]:
    """The API Terraform deployed, executed by the stack (signed upload, POST /analyses, GET) and the upload trigger."""
    import tempfile as _tempfile

    from botocore.credentials import Credentials

    from rekoflow.api_client import ApiClient
    from rekoflow.local.stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY
    from rekoflow.paths import functions_dir

    if str(functions_dir()) not in sys.path:  # the trigger's own naming, from its package
        sys.path.insert(0, str(functions_dir()))
    from start_upload_analysis.uploads import execution_name

    api_url = f"{emulator.endpoint}/restapis/{outputs['api_id']}/{stage}/_user_request_"
    api = ApiClient(api_url, region=REGION, credentials=Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    unsigned = api.request("POST", "/analyses", {}, signed=False)
    if unsigned.status != 403:
        raise TfLocalError(f"an unsigned POST /analyses answered {unsigned.status}, expected 403")
    with _tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "circle.png"
        photo.write_bytes(png_bytes())
        image = api.upload(photo)
    started = api.start_analysis({"requestId": "tf-local-api-1", "image": image, "analyses": ["labels"]})
    if started.status != 202:
        raise TfLocalError(f"POST /analyses answered {started.status}: {started.body}")
    record = api.wait("tf-local-api-1", timeout_s=timeout_s, interval_s=0.5)
    if record["status"] != "SUCCEEDED":
        raise TfLocalError(f"the API's analysis ended {record['status']}: {record.get('error')} {record.get('cause')}")
    s3 = emulator.client("s3")
    put = s3.put_object(
        Bucket=outputs["images_bucket"],
        Key=f"{outputs['upload_trigger_prefix']}tf-local.png",
        Body=png_bytes(),
        ContentType="image/png",
    )
    name = execution_name(
        {
            "bucket": outputs["images_bucket"],
            "key": f"{outputs['upload_trigger_prefix']}tf-local.png",
            "versionId": put["VersionId"],
        }
    )
    deadline = time.monotonic() + timeout_s
    while True:
        item = (
            emulator.client("dynamodb")
            .get_item(TableName=outputs["results_table"], Key={"pk": {"S": name}})
            .get("Item")
            or {}
        )
        if item.get("status", {}).get("S") in ("SUCCEEDED", "FAILED"):
            break
        if time.monotonic() > deadline:
            raise TfLocalError(f"the upload trigger gave no record {name} within {timeout_s:.0f}s")
        time.sleep(0.3)
    if item["status"]["S"] != "SUCCEEDED":
        raise TfLocalError(f"the upload trigger's analysis ended {item['status']['S']}: {item.get('cause')}")
    return {"api": record, "trigger": name}


def leftovers(emulator: Stack, name_prefix: str) -> list[str]:
    """Everything of this stack still in the emulator after destroy."""
    left: list[str] = []
    left += [f"bucket {b['Name']}" for b in emulator.client("s3").list_buckets().get("Buckets", [])]
    left += [f"table {t}" for t in emulator.client("dynamodb").list_tables().get("TableNames", [])]
    left += [f"function {f['FunctionName']}" for f in emulator.client("lambda").list_functions().get("Functions", [])]
    left += [f"layer {layer['LayerName']}" for layer in emulator.client("lambda").list_layers().get("Layers", [])]
    left += [
        f"state machine {m['name']}"
        for m in emulator.client("stepfunctions").list_state_machines().get("stateMachines", [])
    ]
    left += [
        f"role {r['RoleName']}"
        for r in emulator.client("iam").list_roles().get("Roles", [])
        if r["RoleName"].startswith(name_prefix)
    ]
    left += [
        f"log group {g['logGroupName']}"
        for g in emulator.client("logs").describe_log_groups().get("logGroups", [])
        if name_prefix in g["logGroupName"]
    ]
    left += [f"topic {t['TopicArn']}" for t in emulator.client("sns").list_topics().get("Topics", [])]
    left += [f"queue {q}" for q in emulator.client("sqs").list_queues().get("QueueUrls", [])]
    left += [f"rest api {a['name']}" for a in emulator.client("apigateway").get_rest_apis().get("items", [])]
    left += [f"alarm {a['AlarmName']}" for a in emulator.client("cloudwatch").describe_alarms().get("MetricAlarms", [])]
    left += [f"schedule {s['Name']}" for s in emulator.client("scheduler").list_schedules().get("Schedules", [])]
    left += [f"event rule {r['Name']}" for r in emulator.client("events").list_rules().get("Rules", [])]
    kms = emulator.client("kms")
    for key in kms.list_keys().get("Keys", []):
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        # Only the stack's key (its description starts with the prefix); moto creates others itself,
        # e.g. the key behind the AWS-managed aws/s3 on the first SSE-KMS upload.
        if metadata.get("Description", "").startswith(name_prefix) and metadata["KeyState"] not in (
            "PendingDeletion",
            "Disabled",
        ):
            left.append(f"kms key {key['KeyId']} ({metadata['KeyState']})")
    return left


def check_function_environments(
    emulator: Stack, outputs: dict[str, Any], name_prefix: str, tf_vars: dict[str, Any]
) -> int:
    """Each deployed function's environment equals the manifest's declaration with the module's values."""
    values = {
        **declarations.LOCAL_SETTINGS,
        "results_bucket": outputs["results_bucket"],
        "images_bucket": outputs["images_bucket"],
        "table_name": outputs["results_table"],
        "image_analysis_state_machine_arn": outputs["image_analysis_state_machine_arn"],
        **{k: str(v) for k, v in tf_vars.items() if k in declarations.LOCAL_SETTINGS},
    }
    lam = emulator.client("lambda")
    wrong = []
    for name, spec in declarations.functions().items():
        function_name = f"{name_prefix}-{name.replace('_', '-')}"
        deployed = (
            lam.get_function_configuration(FunctionName=function_name).get("Environment", {}).get("Variables", {})
        )
        expected = declarations.function_environment(spec, {**values, "function_name": function_name})
        if deployed != expected:
            differs = sorted(k for k in set(deployed) | set(expected) if deployed.get(k) != expected.get(k))
            details = ", ".join(f"{k}={deployed.get(k)!r} (declared {expected.get(k)!r})" for k in differs)
            wrong.append(f"{function_name}: {details}")
    if wrong:
        raise TfLocalError("deployed environments differ from functions/manifest.json: " + "; ".join(wrong))
    return len(declarations.functions())


def report_incidents(emulator: Stack, path: Path, verbose: bool) -> None:
    """Print what the emulator answered with 5xx, raised on, or was slow for (the provider retries hide it)."""
    incidents = list(emulator.recorder.incidents) if emulator.recorder else []
    replayed = list(patches.REPLAYED_CREATES)
    if not incidents and not replayed:
        return
    lines = [incident.describe() for incident in incidents]
    lines += [
        f"CreateFunction {name}: retried by the client after it was created; answered with the function"
        for name in replayed
    ]
    path.write_text("\n\n".join(lines) + "\n")
    print(f"    stack: {len(incidents)} server incident(s), {len(replayed)} replayed create(s); details in {path}")
    if verbose:
        for line in lines[:20]:
            print("      " + line[:1500].replace("\n", "\n      "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply terraform/ to a bare local stack, run one execution, destroy.")
    parser.add_argument("--build-dir", default=str(REPO_ROOT / "build"), help="output of make build")
    parser.add_argument("--keep", action="store_true", help="keep the working copy and log (printed at the end)")
    parser.add_argument("--rekognition", choices=("engine", "fixed"), default="engine")
    parser.add_argument(
        "--attempts",
        type=int,
        default=2,
        help="full cycles to try before failing (default 2: a second, from scratch, after a failure; "
        "a fault in the module fails both, a lost response in the emulator under load does not)",
    )
    args = parser.parse_args(argv)

    build_dir = Path(args.build_dir)
    if not (build_dir / "layer.zip").exists():
        print(f"tf-local: {build_dir}/layer.zip is missing; run make build first", file=sys.stderr)
        return 2
    if shutil.which("terraform") is None:
        print("tf-local: terraform is not installed", file=sys.stderr)
        return 2

    for number in range(1, args.attempts + 1):
        if number > 1:
            print(f"tf-local: attempt {number - 1} failed; trying again from scratch (a fresh emulator)", flush=True)
        if run_attempt(args, build_dir):
            if number > 1:
                print(f"tf-local: OK on attempt {number}; the failed attempt's log and incidents are listed above")
            print("tf-local: OK")
            return 0
    print("tf-local: FAILED")
    return 1


def run_attempt(args: argparse.Namespace, build_dir: Path) -> bool:
    """One full cycle (emulator, init, apply, execution, destroy, leftovers); True when all passed."""
    timer = Timer()
    work = Path(tempfile.mkdtemp(prefix="rekoflow-tf-local-"))
    log = work / "terraform.log"
    ok = False
    applied = False
    try:
        with timer.step("start the local stack (bare)"):
            rekognition_url = None
            fixed = None
            if args.rekognition == "fixed":
                from rekoflow.local.scripted_rekognition import FakeRekognition

                fixed = FakeRekognition().start()
                rekognition_url = fixed.url
            emulator = Stack(
                StackConfig(
                    state_dir=work / "state", port=0, resources=False, rekognition_endpoint=rekognition_url, fsync=False
                )
            ).start()
            patches.REPLAYED_CREATES.clear()
            print(f"    stack {emulator.endpoint}, Rekognition: {emulator.rekognition_kind}")
        try:
            module = make_working_copy(work, build_dir)
            env = terraform_env(work)
            var_file = work / "endpoints.tfvars.json"
            endpoints = dict.fromkeys(TERRAFORM_SERVICES, emulator.endpoint)
            var_file.write_text(json.dumps({"endpoint_overrides": endpoints, "build_dir": str(build_dir.resolve())}))
            local_vars_file = TERRAFORM_DIR / "local" / "tf-local.tfvars"
            tf_vars = ["-var-file", str(local_vars_file), "-var-file", str(var_file)]
            name_prefix = "rekoflow-tflocal"

            with timer.step("terraform init"):
                terraform(module, env, "init", "-no-color", log=log)
            with timer.step("terraform apply"):
                applied = True
                output = terraform(
                    module, env, "apply", "-auto-approve", "-no-color", "-parallelism=20", *tf_vars, log=log
                )
                slow = slowest_resources(output)
                if slow:
                    print(f"    slowest: {', '.join(slow)}")
            outputs = {k: v["value"] for k, v in json.loads(terraform(module, env, "output", "-json", log=log)).items()}
            with timer.step("function environments match the manifest"):
                checked = check_function_environments(emulator, outputs, name_prefix, _tfvars(local_vars_file))
                print(f"    {checked} functions: environment as declared in functions/manifest.json")
            with timer.step("execution (upload, start, wait, check)"):
                result = run_execution(emulator, outputs)
                item = result["item"]
                print(
                    f"    {outputs['image_analysis_state_machine_arn']}: SUCCEEDED; record status {item['status']['S']}"
                )
            with timer.step("the deployed API and upload trigger"):
                used = use_the_api_and_the_trigger(emulator, outputs)
                print(
                    f"    POST /uploads + S3 POST + POST /analyses + GET: {used['api']['status']}; "
                    f"upload trigger: {used['trigger']} SUCCEEDED"
                )
            with timer.step("Custom Labels sweep (idle-stop machine)"):
                run_sweep(emulator, outputs)
                print(
                    f"    {outputs['custom_labels_state_machine_arns']['custom_labels_idle_stop']}: "
                    "SUCCEEDED, no model in use"
                )
            with timer.step("terraform destroy"):
                output = terraform(
                    module, env, "destroy", "-auto-approve", "-no-color", "-parallelism=20", *tf_vars, log=log
                )
                applied = False
                slow = slowest_resources(output)
                if slow:
                    print(f"    slowest: {', '.join(slow)}")
            with timer.step("check nothing is left"):
                left = leftovers(emulator, name_prefix)
                if left:
                    raise TfLocalError("left behind after destroy: " + ", ".join(left))
            ok = True
        finally:
            if applied:
                print("tf-local: destroying after a failure", file=sys.stderr)
                try:
                    terraform(module, env, "destroy", "-auto-approve", "-no-color", *tf_vars, log=log)
                except Exception as error:  # noqa: BLE001 - best effort; the emulator is discarded anyway
                    print(f"tf-local: destroy failed too: {error}", file=sys.stderr)
            report_incidents(emulator, work / "stack-incidents.log", verbose=not ok)
            emulator.stop()
            if fixed is not None:
                fixed.stop()
    except Exception as error:  # noqa: BLE001 - report any failure with the timings and the kept log
        print(f"tf-local: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
    finally:
        print("timings:\n" + timer.report())
        if args.keep or not ok:
            print(f"tf-local: working copy and terraform log kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return ok


if __name__ == "__main__":
    sys.exit(main())
