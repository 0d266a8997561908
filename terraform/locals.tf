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
  manifest  = jsondecode(file("${local.repo_root}/functions/manifest.json"))
  functions = local.manifest.functions
  build_dir = coalesce(var.build_dir, "${path.module}/../build")

  function_names = { for k, f in local.functions : k => "${var.name_prefix}-${replace(k, "_", "-")}" }
  function_arns  = { for k, name in local.function_names : k => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${name}" }

  rekognition_callers = { for k, f in local.functions : k => f if length(lookup(f, "rekognition_actions", [])) > 0 }

  # Custom Labels actions that take a project, version or dataset ARN (AWS Service Authorization
  # Reference): granted on this account's projects; every other Rekognition action takes Resource "*".
  rekognition_project_actions = [
    "rekognition:CreateProject", "rekognition:CreateDataset", "rekognition:DescribeDataset", "rekognition:DeleteDataset",
    "rekognition:DistributeDatasetEntries", "rekognition:CreateProjectVersion", "rekognition:DescribeProjectVersions",
    "rekognition:StartProjectVersion", "rekognition:StopProjectVersion", "rekognition:DetectCustomLabels",
  ]
  rekognition_grants = {
    for k, f in local.functions : k => {
      any_resource = [for a in lookup(f, "rekognition_actions", []) : a if !contains(local.rekognition_project_actions, a)]
      projects     = [for a in lookup(f, "rekognition_actions", []) : a if contains(local.rekognition_project_actions, a)]
    }
  }

  # Reserved concurrency per function: reserved_concurrency, else rekognition_reserved_concurrency
  # for Rekognition callers, else unreserved (-1). Lambda keeps 100 executions of the account's
  # quota unreserved, so the sum is checked against lambda_account_concurrency - 100 (lambda.tf).
  reserved_concurrency = {
    for k, f in local.functions : k => lookup(var.reserved_concurrency, k, contains(keys(local.rekognition_callers), k) ? var.rekognition_reserved_concurrency : -1)
  }
  reserved_concurrency_total   = sum(concat([0], [for v in values(local.reserved_concurrency) : v if v > 0]))
  reserved_concurrency_unknown = sort(setsubtract(keys(var.reserved_concurrency), keys(local.functions)))
  lambda_unreserved_minimum    = 100

  # The runtime `make build` built the layer for (build/layer.json, written by rekoflow.build).
  layer = jsondecode(file("${local.build_dir}/layer.json"))

  # Every key a manifest entry may have. The flags (reads_*, writes_*, queries_*) each map to a
  # grant in iam.tf; a key not listed here fails the plan (precondition on aws_iam_role.lambda), so a
  # new flag cannot silently get no permission. Add a flag here only together with its grant.
  manifest_known_keys = [
    "description", "handler", "memory_mb", "timeout_s", "rekognition_actions",
    "reads_images", "writes_results", "writes_table", "writes_uploads", "reads_results", "queries_batch_index",
    "writes_custom_labels_output", "starts_image_analysis", "writes_model_leases", "queries_model_leases",
  ]
  manifest_unknown_keys = {
    for k, f in local.functions : k => sort(setsubtract(keys(f), local.manifest_known_keys))
  }

  images_bucket_name   = "${var.name_prefix}-images-${local.account_id}-${local.region}"
  results_bucket_name  = "${var.name_prefix}-results-${local.account_id}-${local.region}"
  results_prefix       = "results/"
  batch_results_prefix = "batches/" # Distributed Map ResultWriter output in the results bucket
  uploads_prefix       = "uploads/"
  custom_labels_prefix = "custom-labels/" # Custom Labels training output in the results bucket
  table_name           = "${var.name_prefix}-results"
  # The sparse index of Custom Labels lease items whose model may run unattended (the sweep reads it).
  model_lease_index = "model-lease-index"

  image_analysis_name = "${var.name_prefix}-image-analysis"
  # From the name, not the resource: the upload trigger's environment needs it, and the state
  # machine depends on every function.
  image_analysis_arn      = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.image_analysis_name}"
  batch_analysis_name     = "${var.name_prefix}-batch-analysis"
  image_analysis_asl_path = "${local.repo_root}/statemachines/image_analysis.asl.json"
  batch_analysis_asl_path = "${local.repo_root}/statemachines/batch_analysis.asl.json"

  # The Custom Labels machines (docs/custom-labels.md): training, the model lease, the idle stop.
  # Each role grants what its ASL names: the functions (${<name>_function_arn}) and the state
  # machines it starts, by placeholder (${<template>_state_machine_arn}) or as itself
  # ($$.StateMachine.Id). They start each other without .sync, so StartExecution is all they need.
  # Their ARNs are built from their names, so the machines, roles and policies can refer to each
  # other without a dependency cycle.
  custom_labels_templates = ["custom_labels_training", "custom_labels_lease", "custom_labels_idle_stop"]
  custom_labels_names     = { for t in local.custom_labels_templates : t => "${var.name_prefix}-${replace(t, "_", "-")}" }
  custom_labels_arns      = { for t, name in local.custom_labels_names : t => "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${name}" }
  custom_labels_asl_raw   = { for t in local.custom_labels_templates : t => file("${local.repo_root}/statemachines/${t}.asl.json") }
  custom_labels_function_keys = {
    for t, raw in local.custom_labels_asl_raw : t => distinct([
      for m in regexall("\\$\\{([a-z0-9_]+)_function_arn\\}", raw) : m[0] if contains(keys(local.functions), m[0])
    ])
  }
  custom_labels_children = {
    for t, raw in local.custom_labels_asl_raw : t => distinct(concat(
      [for m in regexall("\\$\\{([a-z0-9_]+)_state_machine_arn\\}", raw) : m[0]],
      strcontains(raw, "$$.StateMachine.Id") ? [t] : [],
    ))
  }

  # What each state machine may do is read from its ASL file, so its role grants exactly what the
  # definition uses: the functions it names (${<name>_function_arn} placeholders) and the
  # Rekognition / DynamoDB actions it calls through service integrations (e.g. the Custom Labels
  # polling loop, the cache lookup). A function split or renamed in the ASL is picked up here.
  # Integration ARNs in the ASL are arn:${partition}:states:::..., rendered with the partition.
  image_asl_raw = file(local.image_analysis_asl_path)
  batch_asl_raw = file(local.batch_analysis_asl_path)

  asl_rekognition_actions = distinct([
    for m in regexall("arn:\\$\\{partition\\}:states:::aws-sdk:rekognition:([A-Za-z]+)", local.image_asl_raw) :
    "rekognition:${upper(substr(m[0], 0, 1))}${substr(m[0], 1, -1)}"
  ])
  image_asl_dynamodb_actions = distinct([
    for m in regexall("arn:\\$\\{partition\\}:states:::dynamodb:([A-Za-z]+)", local.image_asl_raw) :
    "dynamodb:${upper(substr(m[0], 0, 1))}${substr(m[0], 1, -1)}"
  ])
  batch_asl_dynamodb_actions = distinct([
    for m in regexall("arn:\\$\\{partition\\}:states:::dynamodb:([A-Za-z]+)", local.batch_asl_raw) :
    "dynamodb:${upper(substr(m[0], 0, 1))}${substr(m[0], 1, -1)}"
  ])

  image_function_keys = distinct([
    for m in regexall("\\$\\{([a-z0-9_]+)_function_arn\\}", local.image_asl_raw) : m[0] if contains(keys(local.functions), m[0])
  ])
  batch_function_keys = distinct([
    for m in regexall("\\$\\{([a-z0-9_]+)_function_arn\\}", local.batch_asl_raw) : m[0] if contains(keys(local.functions), m[0])
  ])

  # The analysis request JSON Schema (draft-04 compatible) doubles as the API Gateway model.
  request_schema_path = "${local.repo_root}/functions/rekoflow_common/schemas/analysis_request.schema.json"
  request_schema_json = file(local.request_schema_path)
  request_schema = merge(
    { for k, v in jsondecode(local.request_schema_json) : k => v if !contains(["$schema", "$id", "id"], k) },
    { "$schema" = "http://json-schema.org/draft-04/schema#" },
  )

  # Each function's environment comes from the manifest's "environment" declaration, which the
  # local stack reads too (docs/architecture.md): a variable name maps to one of these settings.
  environment_values = {
    metrics_namespace                = var.metrics_namespace
    log_level                        = var.log_level
    cache_ttl_days                   = tostring(var.cache_ttl_days)
    record_ttl_days                  = tostring(var.record_ttl_days)
    results_bucket                   = aws_s3_bucket.results.id
    results_prefix                   = local.results_prefix
    rekognition_max_attempts         = "3"
    table_name                       = aws_dynamodb_table.results.name
    images_bucket                    = aws_s3_bucket.images.id
    uploads_prefix                   = local.uploads_prefix
    upload_url_expiry_s              = tostring(var.upload_url_expiry_s)
    image_analysis_state_machine_arn = local.image_analysis_arn
    upload_trigger_analyses          = join(",", var.upload_trigger_analyses)
  }
  # A flag is set when it is true or a non-empty list (rekognition_actions).
  function_environment = {
    for k, f in local.functions : k => merge(
      { for name, value in local.manifest.environment.every_function : name => merge(local.environment_values, { function_name = local.function_names[k] })[value] },
      [
        for flag, variables in local.manifest.environment.when :
        { for name, value in variables : name => local.environment_values[value] }
        if try(length(f[flag]) > 0, tobool(f[flag]), false)
      ]...
    )
  }

  # The images bucket's CORS rule (browser uploads), shared with the local stack.
  images_bucket_cors = jsondecode(file("${path.module}/images_bucket_cors.json"))

  # The results table's keys and indexes, shared with the local stack.
  results_table = jsondecode(file("${path.module}/results_table.json"))
}
