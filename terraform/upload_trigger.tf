# S3 upload trigger (off by default; upload_trigger_enabled): an image created under the trigger prefix
# starts one analysis. S3 -> EventBridge (the bucket's notifications) -> a rule -> the
# start_upload_analysis Lambda, which names the execution after the object (duplicates are ignored),
# with retries and a dead-letter queue. Declared in upload_trigger.json, which the local stack reads too.
locals {
  upload_trigger = jsondecode(templatefile("${path.module}/upload_trigger.json", {
    images_bucket = aws_s3_bucket.images.id
    prefix        = var.upload_trigger_prefix
  }))
}

resource "aws_s3_bucket_notification" "images" {
  count = var.upload_trigger_enabled ? 1 : 0

  bucket      = aws_s3_bucket.images.id
  eventbridge = true
}

resource "aws_cloudwatch_event_rule" "uploads" {
  count = var.upload_trigger_enabled ? 1 : 0

  name          = "${var.name_prefix}-uploads"
  description   = "Images created under s3://${aws_s3_bucket.images.id}/${var.upload_trigger_prefix} start an analysis"
  event_pattern = jsonencode(local.upload_trigger.event_pattern)
}

resource "aws_sqs_queue" "uploads_dlq" {
  count = var.upload_trigger_enabled ? 1 : 0

  name                      = "${var.name_prefix}-uploads-dlq"
  message_retention_seconds = local.upload_trigger.dlq_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

data "aws_iam_policy_document" "uploads_dlq" {
  count = var.upload_trigger_enabled ? 1 : 0

  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.uploads_dlq[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.uploads[0].arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.uploads_dlq[0].arn]
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

resource "aws_sqs_queue_policy" "uploads_dlq" {
  count = var.upload_trigger_enabled ? 1 : 0

  queue_url = aws_sqs_queue.uploads_dlq[0].id
  policy    = data.aws_iam_policy_document.uploads_dlq[0].json
}

resource "aws_cloudwatch_event_target" "uploads" {
  count = var.upload_trigger_enabled ? 1 : 0

  rule = aws_cloudwatch_event_rule.uploads[0].name
  arn  = aws_lambda_function.this["start_upload_analysis"].arn

  retry_policy {
    maximum_event_age_in_seconds = local.upload_trigger.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = local.upload_trigger.retry_policy.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.uploads_dlq[0].arn
  }
}

resource "aws_lambda_permission" "uploads" {
  count = var.upload_trigger_enabled ? 1 : 0

  statement_id  = "AllowEventBridgeUploads"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["start_upload_analysis"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.uploads[0].arn
}

resource "aws_cloudwatch_metric_alarm" "uploads_dlq" {
  count = var.upload_trigger_enabled ? 1 : 0

  alarm_name          = "${var.name_prefix}-uploads-dead-letters"
  alarm_description   = "Upload events that could not start an analysis after EventBridge's retries are in ${aws_sqs_queue.uploads_dlq[0].name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.uploads_dlq[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
