# One customer-managed key (about $1/month) encrypts the stack's log groups, the results table,
# Lambda environment variables, the alarm topic and the scheduler. A customer-managed key (rather
# than the AWS-managed aws/logs, aws/dynamodb, aws/sns keys) is needed where a service principal
# must use the key: CloudWatch Logs for log groups, and CloudWatch alarms publishing to an
# encrypted SNS topic (the AWS-managed aws/sns key policy does not allow cloudwatch.amazonaws.com,
# so alarms would silently fail to notify).
data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109:Key policies must grant the account root kms:*; IAM policies then delegate. Resource "*" in a key policy means this key.
  # checkov:skip=CKV_AWS_111:Same statement as above: the standard root-account statement of a key policy.
  # checkov:skip=CKV_AWS_356:Resource "*" inside a key policy refers to the key itself.
  statement {
    sid       = "AccountRoot"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsToSns"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: logs, results table, Lambda environment, alarm topic, scheduler"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}
