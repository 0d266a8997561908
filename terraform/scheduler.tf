# A schedule (disabled by default) that starts the batch state machine over var.batch_prefix.
# Created only when statemachines/batch_analysis.asl.json exists.
resource "aws_sqs_queue" "scheduler_dlq" {
  count = local.batch_enabled ? 1 : 0

  name                      = "${var.name_prefix}-batch-schedule-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

data "aws_iam_policy_document" "scheduler_dlq" {
  count = local.batch_enabled ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.scheduler_dlq[0].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "scheduler_dlq" {
  count = local.batch_enabled ? 1 : 0

  queue_url = aws_sqs_queue.scheduler_dlq[0].id
  policy    = data.aws_iam_policy_document.scheduler_dlq[0].json
}

resource "aws_scheduler_schedule" "batch" {
  count = local.batch_enabled ? 1 : 0

  name                         = "${var.name_prefix}-batch-analysis"
  description                  = "Starts ${local.batch_analysis_name} over s3://${aws_s3_bucket.images.id}/${var.batch_prefix}"
  state                        = var.batch_schedule_enabled ? "ENABLED" : "DISABLED"
  schedule_expression          = var.batch_schedule_expression
  schedule_expression_timezone = var.batch_schedule_timezone
  kms_key_arn                  = aws_kms_key.this.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.batch_analysis[0].arn
    role_arn = aws_iam_role.scheduler[0].arn
    # No batchId: the batch machine uses the execution name, unique per scheduled run.
    input = jsonencode({
      bucket                     = aws_s3_bucket.images.id
      prefix                     = var.batch_prefix
      analyses                   = var.batch_analyses
      maxConcurrency             = var.rekognition_max_concurrency
      toleratedFailurePercentage = var.batch_tolerated_failure_percentage
    })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 5
    }

    dead_letter_config {
      arn = aws_sqs_queue.scheduler_dlq[0].arn
    }
  }
}
