#!/usr/bin/env bash
# make tf-check: terraform fmt/validate and checkov on the root module in terraform/.
# Offline-friendly: when TF_PLUGIN_MIRROR names a provider mirror, hashicorp/aws comes from it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF_DIR="$ROOT/terraform"
BIN="${VENV_BIN:-$ROOT/.venv/bin}"
export TF_IN_AUTOMATION=1

work="$(mktemp -d)"
# The lock file init writes holds only this platform's hash (a mirror has one platform), so it is
# not committed; remove it again unless it was already there.
lock="$TF_DIR/.terraform.lock.hcl"
had_lock=0
[[ -f "$lock" ]] && had_lock=1
cleanup() {
  rm -rf "$work"
  if [[ $had_lock -eq 0 ]]; then rm -f "$lock"; fi
}
trap cleanup EXIT

if [[ -n "${TF_PLUGIN_MIRROR:-}" ]]; then
  cat >"$work/terraformrc" <<HCL
provider_installation {
  filesystem_mirror {
    path    = "$TF_PLUGIN_MIRROR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
HCL
  export TF_CLI_CONFIG_FILE="$work/terraformrc"
fi

# validate needs the ASL files that templatefile() reads; they live in statemachines/.
if [[ ! -f "$ROOT/statemachines/image_analysis.asl.json" ]]; then
  echo "tf-check: statemachines/image_analysis.asl.json is missing" >&2
  exit 1
fi

echo "==> terraform fmt -check -recursive"
terraform -chdir="$TF_DIR" fmt -check -recursive -diff

echo "==> terraform init -backend=false"
# A separate data dir keeps this from touching a developer's terraform/.terraform.
export TF_DATA_DIR="$work/tfdata"
terraform -chdir="$TF_DIR" init -backend=false -input=false -no-color >"$work/init.log" 2>&1 \
  || { cat "$work/init.log" >&2; exit 1; }

echo "==> terraform validate"
terraform -chdir="$TF_DIR" validate -no-color

echo "==> checkov"
# checkov lives in its own virtualenv (make tf-check creates .venv-checkov): its pins clash with the project's.
CHECKOV="${CHECKOV:-$ROOT/.venv-checkov/bin/checkov}"
command -v "$CHECKOV" >/dev/null 2>&1 || CHECKOV="$(command -v checkov || true)"
if [[ -z "$CHECKOV" ]]; then
  echo "tf-check: checkov not found; run make tf-check (it installs checkov into .venv-checkov)" >&2
  exit 1
fi
"$CHECKOV" -d "$TF_DIR" --framework terraform --quiet --compact --skip-download
echo "tf-check: OK"
