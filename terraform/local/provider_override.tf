# Copied into a temporary working copy of terraform/ by `make tf-local` (rekoflow.local.tf_local):
# points every AWS endpoint at the local stack with fake credentials. Never used for AWS.
provider "aws" {
  region                      = var.region
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    apigateway     = var.endpoint_overrides["apigateway"]
    cloudwatch     = var.endpoint_overrides["cloudwatch"]
    cloudwatchlogs = var.endpoint_overrides["logs"]
    dynamodb       = var.endpoint_overrides["dynamodb"]
    events         = var.endpoint_overrides["events"]
    iam            = var.endpoint_overrides["iam"]
    kms            = var.endpoint_overrides["kms"]
    lambda         = var.endpoint_overrides["lambda"]
    s3             = var.endpoint_overrides["s3"]
    scheduler      = var.endpoint_overrides["scheduler"]
    sfn            = var.endpoint_overrides["sfn"]
    sns            = var.endpoint_overrides["sns"]
    sqs            = var.endpoint_overrides["sqs"]
    sts            = var.endpoint_overrides["sts"]
  }

  default_tags {
    tags = local.tags
  }
}
