# A schedule (disabled by default) that starts the batch state machine over var.batch_prefix.
resource "aws_sqs_queue" "scheduler_dlq" {
  name                      = "${var.name_prefix}-batch-schedule-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

data "aws_iam_policy_document" "scheduler_dlq" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.scheduler_dlq.arn]
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
  queue_url = aws_sqs_queue.scheduler_dlq.id
  policy    = data.aws_iam_policy_document.scheduler_dlq.json
}

resource "aws_scheduler_schedule" "batch" {
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
    arn      = aws_sfn_state_machine.batch_analysis.arn
    role_arn = aws_iam_role.scheduler.arn
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
      arn = aws_sqs_queue.scheduler_dlq.arn
    }
  }
}

# The Custom Labels sweep (docs/custom-labels.md, "Leases"): every var.custom_labels_sweep_schedule
# it starts the idle-stop machine with {"sweep": true}, which starts a watcher for every model in use
# whose watcher is gone (a killed execution), so no model runs unattended for longer than this.
resource "aws_sqs_queue" "custom_labels_sweep_dlq" {
  name                      = "${var.name_prefix}-custom-labels-sweep-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

data "aws_iam_policy_document" "custom_labels_sweep_dlq" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.custom_labels_sweep_dlq.arn]
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

resource "aws_sqs_queue_policy" "custom_labels_sweep_dlq" {
  queue_url = aws_sqs_queue.custom_labels_sweep_dlq.id
  policy    = data.aws_iam_policy_document.custom_labels_sweep_dlq.json
}

resource "aws_scheduler_schedule" "custom_labels_sweep" {
  name                = "${var.name_prefix}-custom-labels-sweep"
  description         = "Starts ${local.custom_labels_names["custom_labels_idle_stop"]} as the sweep: watchers for Custom Labels models whose watcher is gone"
  state               = var.custom_labels_sweep_enabled ? "ENABLED" : "DISABLED"
  schedule_expression = var.custom_labels_sweep_schedule
  kms_key_arn         = aws_kms_key.this.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.custom_labels["custom_labels_idle_stop"].arn
    role_arn = aws_iam_role.custom_labels_sweep.arn
    input    = jsonencode({ sweep = true })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 5
    }

    dead_letter_config {
      arn = aws_sqs_queue.custom_labels_sweep_dlq.arn
    }
  }
}
