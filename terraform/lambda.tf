# One function per entry of functions/manifest.json: adding a function there (and its package
# under functions/) needs no change here. Zips and the layer come from `make build`.
resource "aws_lambda_layer_version" "dependencies" {
  layer_name          = "${var.name_prefix}-dependencies"
  description         = "Third-party dependencies of the functions (functions/requirements.txt)"
  filename            = "${local.build_dir}/layer.zip"
  source_code_hash    = filebase64sha256("${local.build_dir}/layer.zip")
  compatible_runtimes = [var.lambda_runtime]

  lifecycle {
    # The layer's compiled wheels (rpds-py, ...) are for one CPython: a function on another runtime
    # fails at its first cold start, not at apply.
    precondition {
      condition     = local.layer.runtime == var.lambda_runtime
      error_message = "lambda_runtime is ${var.lambda_runtime} but the layer in ${local.build_dir} was built for ${local.layer.runtime}: rebuild it with python -m rekoflow.build --out build --python-version ${trimprefix(var.lambda_runtime, "python")}, or set lambda_runtime = \"${local.layer.runtime}\"."
    }
  }
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.function_names

  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_lambda_function" "this" {
  for_each = local.functions
  # checkov:skip=CKV_AWS_116:Functions are invoked synchronously (Step Functions, API Gateway); a DLQ applies only to asynchronous invocations. Failures are recorded by the state machine's Catch.
  # checkov:skip=CKV_AWS_117:The functions call only public AWS APIs (S3, Rekognition); a VPC would add NAT/endpoint cost and cold-start latency without protecting anything.
  # checkov:skip=CKV_AWS_272:Code signing is not used: zips are built reproducibly from the repository by `make build` in the deploying pipeline.
  # checkov:skip=CKV_AWS_115:Reserved concurrency is set for Rekognition callers through rekognition_reserved_concurrency; the default (-1) reserves nothing because new accounts have a concurrency limit of 10.

  function_name    = local.function_names[each.key]
  description      = substr(each.value.description, 0, 256)
  role             = aws_iam_role.lambda[each.key].arn
  handler          = each.value.handler
  runtime          = var.lambda_runtime
  architectures    = ["x86_64"]
  memory_size      = coalesce(var.lambda_memory_mb, each.value.memory_mb)
  timeout          = coalesce(var.lambda_timeout_s, each.value.timeout_s)
  filename         = "${local.build_dir}/functions/${each.key}.zip"
  source_code_hash = filebase64sha256("${local.build_dir}/functions/${each.key}.zip")
  layers           = [aws_lambda_layer_version.dependencies.arn]
  kms_key_arn      = aws_kms_key.this.arn

  reserved_concurrent_executions = local.reserved_concurrency[each.key]

  environment {
    variables = local.function_environment[each.key]
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  lifecycle {
    precondition {
      condition     = length(local.reserved_concurrency_unknown) == 0
      error_message = "reserved_concurrency names functions that are not in functions/manifest.json: ${join(", ", local.reserved_concurrency_unknown)}."
    }
    # Lambda refuses a reservation that leaves fewer than 100 unreserved executions in the account.
    precondition {
      condition     = local.reserved_concurrency_total <= var.lambda_account_concurrency - local.lambda_unreserved_minimum
      error_message = "The functions reserve ${local.reserved_concurrency_total} concurrent executions in total, but Lambda keeps ${local.lambda_unreserved_minimum} of the account's ${var.lambda_account_concurrency} unreserved: at most ${var.lambda_account_concurrency - local.lambda_unreserved_minimum} can be reserved. Lower rekognition_reserved_concurrency (it applies to each of the ${length(local.rekognition_callers)} Rekognition functions) or reserved_concurrency, or raise the quota and lambda_account_concurrency."
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}
