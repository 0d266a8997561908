# The production provider: credentials and region come from the usual AWS environment.
# `make tf-local` copies terraform/local/provider_override.tf next to this file (in a temporary
# working copy) to point every endpoint at the local emulator; this file never changes for that.
provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
