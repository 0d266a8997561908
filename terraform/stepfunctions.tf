# The state machines render the ASL files in statemachines/ (design decision 1). Every manifest
# function is offered to the template as ${<name>_function_arn}, so a new function needs no change here.
locals {
  batch_analysis_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.batch_analysis_name}"

  image_analysis_template_vars = merge(
    { for k, f in aws_lambda_function.this : "${k}_function_arn" => f.arn },
    {
      partition          = local.partition
      results_table_name = aws_dynamodb_table.results.name
      results_bucket     = aws_s3_bucket.results.id
      images_bucket      = aws_s3_bucket.images.id
    },
  )
}

resource "aws_cloudwatch_log_group" "image_analysis" {
  name              = "/aws/vendedlogs/states/${local.image_analysis_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_sfn_state_machine" "image_analysis" {
  name       = local.image_analysis_name
  type       = "STANDARD"
  role_arn   = aws_iam_role.image_analysis.arn
  definition = templatefile(local.image_analysis_asl_path, local.image_analysis_template_vars)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.image_analysis.arn}:*"
    include_execution_data = var.sfn_include_execution_data
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.image_analysis]
}

resource "aws_cloudwatch_log_group" "batch_analysis" {
  count = local.batch_enabled ? 1 : 0

  name              = "/aws/vendedlogs/states/${local.batch_analysis_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_sfn_state_machine" "batch_analysis" {
  count = local.batch_enabled ? 1 : 0

  name     = local.batch_analysis_name
  type     = "STANDARD"
  role_arn = aws_iam_role.batch_analysis[0].arn
  definition = local.batch_enabled ? templatefile(local.batch_analysis_asl_path, merge(
    { for k, f in aws_lambda_function.this : "${k}_function_arn" => f.arn },
    {
      partition                        = local.partition
      image_analysis_state_machine_arn = aws_sfn_state_machine.image_analysis.arn
      results_bucket                   = aws_s3_bucket.results.id
      results_table_name               = aws_dynamodb_table.results.name
      images_bucket                    = aws_s3_bucket.images.id
    },
  )) : ""

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.batch_analysis[0].arn}:*"
    include_execution_data = var.sfn_include_execution_data
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.batch_analysis]
}
