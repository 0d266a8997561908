# Resources that were counted while the batch machine's ASL file was optional (it always exists now):
# existing deployments keep them under their new addresses instead of replacing them.

moved {
  from = aws_sqs_queue.scheduler_dlq[0]
  to   = aws_sqs_queue.scheduler_dlq
}

moved {
  from = aws_sqs_queue_policy.scheduler_dlq[0]
  to   = aws_sqs_queue_policy.scheduler_dlq
}

moved {
  from = aws_scheduler_schedule.batch[0]
  to   = aws_scheduler_schedule.batch
}

moved {
  from = aws_iam_role.batch_analysis[0]
  to   = aws_iam_role.batch_analysis
}

moved {
  from = aws_iam_role_policy.batch_analysis[0]
  to   = aws_iam_role_policy.batch_analysis
}

moved {
  from = aws_iam_role.scheduler[0]
  to   = aws_iam_role.scheduler
}

moved {
  from = aws_iam_role_policy.scheduler[0]
  to   = aws_iam_role_policy.scheduler
}

moved {
  from = aws_cloudwatch_log_group.batch_analysis[0]
  to   = aws_cloudwatch_log_group.batch_analysis
}

moved {
  from = aws_sfn_state_machine.batch_analysis[0]
  to   = aws_sfn_state_machine.batch_analysis
}
