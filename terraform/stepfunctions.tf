# The state machines render the ASL files in statemachines/ (docs/architecture.md, ADR-1). Every manifest
# function is offered to the template as ${<name>_function_arn}, so a new function needs no change here.
locals {
  batch_analysis_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.batch_analysis_name}"

  # What every template may use (docs/architecture.md, "State machine templates").
  sfn_template_vars = merge(
    { for k, f in aws_lambda_function.this : "${k}_function_arn" => f.arn },
    {
      partition          = local.partition
      results_table_name = aws_dynamodb_table.results.name
      results_bucket     = aws_s3_bucket.results.id
      images_bucket      = aws_s3_bucket.images.id
    },
    { for t, arn in local.custom_labels_arns : "${t}_state_machine_arn" => arn },
  )

  # The image-analysis machine starts the training and lease machines (nested .sync:2): refer to the
  # resources, so they exist first.
  image_analysis_template_vars = merge(local.sfn_template_vars, {
    custom_labels_training_state_machine_arn = aws_sfn_state_machine.custom_labels["custom_labels_training"].arn
    custom_labels_lease_state_machine_arn    = aws_sfn_state_machine.custom_labels["custom_labels_lease"].arn
  })
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
  name              = "/aws/vendedlogs/states/${local.batch_analysis_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_sfn_state_machine" "batch_analysis" {
  name     = local.batch_analysis_name
  type     = "STANDARD"
  role_arn = aws_iam_role.batch_analysis.arn
  definition = templatefile(local.batch_analysis_asl_path, merge(local.sfn_template_vars, {
    image_analysis_state_machine_arn      = aws_sfn_state_machine.image_analysis.arn
    custom_labels_lease_state_machine_arn = aws_sfn_state_machine.custom_labels["custom_labels_lease"].arn
  }))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.batch_analysis.arn}:*"
    include_execution_data = var.sfn_include_execution_data
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.batch_analysis]
}

# The Custom Labels machines: training, the model lease and the idle stop (docs/custom-labels.md).
resource "aws_cloudwatch_log_group" "custom_labels" {
  for_each = local.custom_labels_names

  name              = "/aws/vendedlogs/states/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_sfn_state_machine" "custom_labels" {
  for_each = local.custom_labels_names

  name       = each.value
  type       = "STANDARD"
  role_arn   = aws_iam_role.custom_labels[each.key].arn
  definition = templatefile("${local.repo_root}/statemachines/${each.key}.asl.json", local.sfn_template_vars)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.custom_labels[each.key].arn}:*"
    include_execution_data = var.sfn_include_execution_data
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.custom_labels]
}
