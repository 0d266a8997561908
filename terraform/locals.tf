data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  tags = merge(var.tags, {
    Project   = "rekoflow"
    ManagedBy = "terraform"
  })

  # functions/manifest.json is the single list of Lambda functions (docs/architecture.md).
  repo_root = "${path.module}/.."
  functions = jsondecode(file("${local.repo_root}/functions/manifest.json")).functions
  build_dir = coalesce(var.build_dir, "${path.module}/../build")

  function_names = { for k, f in local.functions : k => "${var.name_prefix}-${replace(k, "_", "-")}" }
  function_arns  = { for k, name in local.function_names : k => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${name}" }

  rekognition_callers = { for k, f in local.functions : k => f if length(lookup(f, "rekognition_actions", [])) > 0 }

  images_bucket_name  = "${var.name_prefix}-images-${local.account_id}-${local.region}"
  results_bucket_name = "${var.name_prefix}-results-${local.account_id}-${local.region}"
  results_prefix      = "results/"
  uploads_prefix      = "uploads/"
  table_name          = "${var.name_prefix}-results"

  image_analysis_name     = "${var.name_prefix}-image-analysis"
  batch_analysis_name     = "${var.name_prefix}-batch-analysis"
  image_analysis_asl_path = "${local.repo_root}/statemachines/image_analysis.asl.json"
  batch_analysis_asl_path = "${local.repo_root}/statemachines/batch_analysis.asl.json"
  # The batch state machine is deployed only once its ASL file exists.
  batch_enabled = fileexists(local.batch_analysis_asl_path)

  # Rekognition actions the image-analysis ASL calls directly through the aws-sdk integration
  # (e.g. the Custom Labels training/polling loop), derived from the file so the state machine
  # role grants exactly those.
  image_asl_raw = file(local.image_analysis_asl_path)
  asl_rekognition_actions = distinct([
    for m in regexall("arn:aws:states:::aws-sdk:rekognition:([A-Za-z]+)", local.image_asl_raw) :
    "rekognition:${upper(substr(m[0], 0, 1))}${substr(m[0], 1, -1)}"
  ])

  # Functions the batch ASL invokes (its ${<name>_function_arn} placeholders): its role may invoke exactly those.
  batch_function_keys = local.batch_enabled ? distinct([
    for m in regexall("\\$\\{([a-z0-9_]+)_function_arn\\}", file(local.batch_analysis_asl_path)) : m[0] if contains(keys(local.functions), m[0])
  ]) : []

  # The analysis request JSON Schema (draft-04 compatible) doubles as the API Gateway model.
  request_schema_path = "${local.repo_root}/functions/rekoflow_common/schemas/analysis_request.schema.json"
  request_schema_json = fileexists(local.request_schema_path) ? file(local.request_schema_path) : jsonencode({
    title      = "AnalysisRequest"
    type       = "object"
    required   = ["image"]
    properties = { image = { type = "object", required = ["bucket", "key"] } }
  })
  request_schema = merge(
    { for k, v in jsondecode(local.request_schema_json) : k => v if !contains(["$schema", "$id", "id"], k) },
    { "$schema" = "http://json-schema.org/draft-04/schema#" },
  )

  powertools_environment = {
    POWERTOOLS_SERVICE_NAME      = var.name_prefix
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    POWERTOOLS_LOG_LEVEL         = var.log_level
    CACHE_TTL_DAYS               = tostring(var.cache_ttl_days)
    RECORD_TTL_DAYS              = tostring(var.record_ttl_days)
  }
}
