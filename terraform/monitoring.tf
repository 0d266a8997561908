# Alarms on failed/throttled executions and on function errors, to one encrypted SNS topic.
# The topic uses the stack's customer-managed key, not alias/aws/sns: CloudWatch alarms cannot use
# the AWS-managed SNS key (its key policy cannot grant cloudwatch.amazonaws.com), see kms.tf.
resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = aws_kms_key.this.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  state_machine_arns = merge(
    {
      image_analysis = aws_sfn_state_machine.image_analysis.arn
      batch_analysis = aws_sfn_state_machine.batch_analysis.arn
    },
    # Training failures, lease failures and a failed idle watcher (a model that may stay running) alarm too.
    { for t, machine in aws_sfn_state_machine.custom_labels : t => machine.arn },
  )
  state_machine_alarms = merge([
    for sm, arn in local.state_machine_arns : {
      "${sm}-failed"    = { arn = arn, metric = "ExecutionsFailed", name = sm }
      "${sm}-throttled" = { arn = arn, metric = "ExecutionThrottled", name = sm }
    }
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "state_machine" {
  for_each = local.state_machine_alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.metric} of the ${each.value.name} state machine"
  namespace           = "AWS/States"
  metric_name         = each.value.metric
  dimensions          = { StateMachineArn = each.value.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = aws_lambda_function.this

  alarm_name          = "${each.value.function_name}-errors"
  alarm_description   = "Errors of the ${each.value.function_name} function"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
