# Least privilege: one role per function, built from its manifest entry; one role per state
# machine; one for API Gateway's service integrations; one for the scheduler.
#
# Trust policies carry only the conditions the assuming service sends (docs/deploy.md, "IAM and
# KMS"): Step Functions and EventBridge Scheduler send aws:SourceAccount and aws:SourceArn; Lambda
# and API Gateway document none for assuming an execution or integration role, and a condition on
# a key that is absent never matches, so the role could not be assumed at all. Those two roles are
# protected by iam:PassRole instead: only a principal of this account allowed to pass them can
# attach them to a function or an integration.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# The results table is encrypted with the stack's customer-managed key (dynamodb.tf): DynamoDB calls
# KMS as the principal that accesses the table, so every reader and writer of the table needs these
# actions on the key, and only through DynamoDB (kms:ViaService).
locals {
  table_key_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
  dynamodb_endpoint = "dynamodb.${local.region}.${data.aws_partition.current.dns_suffix}"
}

resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name               = "${local.function_names[each.key]}-fn"
  description        = "Execution role of ${local.function_names[each.key]}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  lifecycle {
    # Every manifest flag must map to a grant below: an unknown key fails the plan instead of
    # silently granting nothing (locals.tf: manifest_known_keys).
    precondition {
      condition     = length(local.manifest_unknown_keys[each.key]) == 0
      error_message = "functions/manifest.json entry ${each.key} has keys Terraform does not know: ${join(", ", local.manifest_unknown_keys[each.key])}. Add the flag's grant to terraform/iam.tf and the key to manifest_known_keys in terraform/locals.tf."
    }
  }
}

data "aws_iam_policy_document" "lambda" {
  for_each = local.functions

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  # X-Ray trace submission does not support resource-level permissions.
  statement {
    sid       = "XRay"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # Rekognition's image operations (Detect*, CompareFaces) and DescribeProjects have no
  # resource-level permissions: the only valid Resource is "*". The Custom Labels operations on
  # projects, versions and datasets are scoped to this account's projects. The actions are exactly
  # the manifest's (locals.tf: rekognition_grants).
  dynamic "statement" {
    for_each = length(local.rekognition_grants[each.key].any_resource) > 0 ? [1] : []
    content {
      sid       = "Rekognition"
      actions   = local.rekognition_grants[each.key].any_resource
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.rekognition_grants[each.key].projects) > 0 ? [1] : []
    content {
      sid       = "RekognitionProjects"
      actions   = local.rekognition_grants[each.key].projects
      resources = ["arn:${local.partition}:rekognition:${local.region}:${local.account_id}:project/*"]
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "reads_images", false) ? [1] : []
    content {
      sid       = "ReadImages"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = ["${aws_s3_bucket.images.arn}/*"]
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "writes_results", false) ? [1] : []
    content {
      sid       = "WriteResults"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.results.arn}/${local.results_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "writes_table", false) ? [1] : []
    content {
      sid       = "WriteRecords"
      actions   = ["dynamodb:PutItem"]
      resources = [aws_dynamodb_table.results.arn]
    }
  }

  # reads_results: the batch result files (Distributed Map ResultWriter) under batches/.
  dynamic "statement" {
    for_each = lookup(each.value, "reads_results", false) ? [1] : []
    content {
      sid       = "ReadBatchResults"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.results.arn}/${local.batch_results_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "reads_results", false) ? [1] : []
    content {
      sid       = "ListBatchResults"
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.results.arn]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${local.batch_results_prefix}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "queries_batch_index", false) ? [1] : []
    content {
      sid       = "QueryBatchIndex"
      actions   = ["dynamodb:Query"]
      resources = ["${aws_dynamodb_table.results.arn}/index/batch-index"]
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "writes_uploads", false) ? [1] : []
    content {
      sid       = "SignUploads"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.images.arn}/${local.uploads_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "starts_image_analysis", false) ? [1] : []
    content {
      sid       = "StartImageAnalysis"
      actions   = ["states:StartExecution"]
      resources = [local.image_analysis_arn]
    }
  }

  # CreateProjectVersion writes the training output (evaluation, manifests) with the caller's S3
  # permissions to OutputConfig: the results bucket under custom-labels/ (the request schema keeps
  # options.custom.training.outputPrefix there).
  dynamic "statement" {
    for_each = lookup(each.value, "writes_custom_labels_output", false) ? [1] : []
    content {
      sid       = "WriteCustomLabelsOutput"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.results.arn}/${local.custom_labels_prefix}*"]
    }
  }

  # writes_model_leases: the Custom Labels lease items (compare-and-swap: GetItem, then a conditional PutItem).
  dynamic "statement" {
    for_each = lookup(each.value, "writes_model_leases", false) ? [1] : []
    content {
      sid       = "ModelLeases"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [aws_dynamodb_table.results.arn]
    }
  }

  dynamic "statement" {
    for_each = lookup(each.value, "queries_model_leases", false) ? [1] : []
    content {
      sid       = "QueryModelLeaseIndex"
      actions   = ["dynamodb:Query"]
      resources = ["${aws_dynamodb_table.results.arn}/index/${local.model_lease_index}"]
    }
  }

  dynamic "statement" {
    for_each = anytrue([for flag in ["writes_table", "queries_batch_index", "writes_model_leases", "queries_model_leases"] : lookup(each.value, flag, false)]) ? [1] : []
    content {
      sid       = "ResultsTableKey"
      actions   = local.table_key_actions
      resources = [aws_kms_key.this.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.dynamodb_endpoint]
      }
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.functions

  name   = "least-privilege"
  role   = aws_iam_role.lambda[each.key].id
  policy = data.aws_iam_policy_document.lambda[each.key].json
}

# --- Step Functions --------------------------------------------------------------------------

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# Log delivery to CloudWatch Logs and X-Ray do not support resource-level permissions; AWS
# documents Resource "*" for these actions (Step Functions "Logging using CloudWatch Logs").
data "aws_iam_policy_document" "states_observability" {
  # checkov:skip=CKV_AWS_111:The log-delivery actions (logs:*LogDelivery, PutResourcePolicy) only accept Resource "*"; AWS documents exactly this statement for Step Functions logging.
  # checkov:skip=CKV_AWS_356:Same: these log-delivery and X-Ray actions have no resource-level permissions.
  statement {
    sid = "LogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "XRay"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "image_analysis" {
  name               = "${local.image_analysis_name}-sfn"
  description        = "Execution role of the ${local.image_analysis_name} state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

data "aws_iam_policy_document" "image_analysis" {
  source_policy_documents = [data.aws_iam_policy_document.states_observability.json]

  # Exactly the functions the ASL names (locals.tf: image_function_keys), not every function.
  statement {
    sid       = "InvokeFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = flatten([for k in local.image_function_keys : [local.function_arns[k], "${local.function_arns[k]}:*"]])
  }

  # The DynamoDB integration actions the ASL uses (e.g. the cache lookup and record writes).
  dynamic "statement" {
    for_each = length(local.image_asl_dynamodb_actions) > 0 ? [1] : []
    content {
      sid       = "ResultsTable"
      actions   = local.image_asl_dynamodb_actions
      resources = [aws_dynamodb_table.results.arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.image_asl_dynamodb_actions) > 0 ? [1] : []
    content {
      sid       = "ResultsTableKey"
      actions   = local.table_key_actions
      resources = [aws_kms_key.this.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.dynamodb_endpoint]
      }
    }
  }

  # Rekognition actions the ASL calls directly (aws-sdk integration), derived from the file.
  dynamic "statement" {
    for_each = length(local.asl_rekognition_actions) > 0 ? [1] : []
    content {
      sid       = "RekognitionSdkTasks"
      actions   = local.asl_rekognition_actions
      resources = ["*"]
    }
  }

  # Custom Labels: the training and lease machines as child executions (startExecution.sync:2).
  statement {
    sid       = "StartCustomLabelsExecutions"
    actions   = ["states:StartExecution"]
    resources = [local.custom_labels_arns["custom_labels_training"], local.custom_labels_arns["custom_labels_lease"]]
  }

  # .sync:2 polls (and on abort stops) each child.
  statement {
    sid     = "ManageCustomLabelsExecutions"
    actions = ["states:DescribeExecution", "states:StopExecution"]
    resources = [
      "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.custom_labels_names["custom_labels_training"]}:*",
      "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.custom_labels_names["custom_labels_lease"]}:*",
    ]
  }

  # startExecution.sync waits on the managed EventBridge rule that Step Functions creates.
  statement {
    sid       = "SyncExecutionEvents"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]
  }
}

resource "aws_iam_role_policy" "image_analysis" {
  name   = "least-privilege"
  role   = aws_iam_role.image_analysis.id
  policy = data.aws_iam_policy_document.image_analysis.json
}

resource "aws_iam_role" "batch_analysis" {
  name               = "${local.batch_analysis_name}-sfn"
  description        = "Execution role of the ${local.batch_analysis_name} state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

data "aws_iam_policy_document" "batch_analysis" {
  source_policy_documents = [data.aws_iam_policy_document.states_observability.json]

  # Child executions of the image-analysis machine, and the Distributed Map's own child
  # workflow executions (which run as executions of this state machine).
  # ... and, for a batch with custom, the Custom Labels lease machine (the model leased for the run).
  statement {
    sid       = "StartExecutions"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.image_analysis.arn, local.batch_analysis_arn, local.custom_labels_arns["custom_labels_lease"]]
  }

  # startExecution.sync:2 polls (and on abort stops) each image-analysis child and the lease child.
  statement {
    sid     = "ManageChildExecutions"
    actions = ["states:DescribeExecution", "states:StopExecution"]
    resources = [
      "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.image_analysis_name}:*",
      "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.custom_labels_names["custom_labels_lease"]}:*",
    ]
  }

  # The Map Run's child workflow executions (<machine>/<map run label>:<id>); redriving a failed
  # batch redrives the Map Run, which redrives its failed children (RedriveExecution).
  statement {
    sid       = "ManageMapRunExecutions"
    actions   = ["states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"]
    resources = ["arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.batch_analysis_name}/*:*"]
  }

  # startExecution.sync waits on the managed EventBridge rule that Step Functions creates.
  statement {
    sid       = "SyncExecutionEvents"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]
  }

  dynamic "statement" {
    for_each = length(local.batch_function_keys) > 0 ? [1] : []
    content {
      sid       = "InvokeFunctions"
      actions   = ["lambda:InvokeFunction"]
      resources = flatten([for k in local.batch_function_keys : [local.function_arns[k], "${local.function_arns[k]}:*"]])
    }
  }

  # The ItemReader (s3:listObjectsV2) lists the prefix; it reads no object, so no s3:GetObject on
  # the images (the child executions' functions read them with their own roles). The prefix comes
  # from the execution input, so it cannot be pinned by an s3:prefix condition here.
  statement {
    sid       = "ListImages"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
  }

  # Distributed Map ResultWriter writes its manifest and result files (multipart uploads) under
  # batches/<batchId>/ only. Both buckets use the AWS-managed aws/s3 key (s3.tf), whose key policy
  # already lets principals of this account use it through S3: no KMS statement is needed.
  statement {
    sid       = "WriteBatchResults"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.results.arn}/${local.batch_results_prefix}*"]
  }

  # DynamoDB integration actions the batch ASL uses directly, if any (it records through summarize_batch).
  dynamic "statement" {
    for_each = length(local.batch_asl_dynamodb_actions) > 0 ? [1] : []
    content {
      sid       = "ResultsTable"
      actions   = local.batch_asl_dynamodb_actions
      resources = [aws_dynamodb_table.results.arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.batch_asl_dynamodb_actions) > 0 ? [1] : []
    content {
      sid       = "ResultsTableKey"
      actions   = local.table_key_actions
      resources = [aws_kms_key.this.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.dynamodb_endpoint]
      }
    }
  }
}

resource "aws_iam_role_policy" "batch_analysis" {
  name   = "least-privilege"
  role   = aws_iam_role.batch_analysis.id
  policy = data.aws_iam_policy_document.batch_analysis.json
}

# The Custom Labels machines (training, lease, idle stop): the functions their ASL names and the
# machines they start (without .sync: StartExecution only), as locals.tf derives them.
resource "aws_iam_role" "custom_labels" {
  for_each = local.custom_labels_names

  name               = "${each.value}-sfn"
  description        = "Execution role of the ${each.value} state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

data "aws_iam_policy_document" "custom_labels" {
  for_each = local.custom_labels_names

  source_policy_documents = [data.aws_iam_policy_document.states_observability.json]

  statement {
    sid       = "InvokeFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = flatten([for k in local.custom_labels_function_keys[each.key] : [local.function_arns[k], "${local.function_arns[k]}:*"]])
  }

  dynamic "statement" {
    for_each = length(local.custom_labels_children[each.key]) > 0 ? [1] : []
    content {
      sid       = "StartExecutions"
      actions   = ["states:StartExecution"]
      resources = [for t in local.custom_labels_children[each.key] : local.custom_labels_arns[t]]
    }
  }
}

resource "aws_iam_role_policy" "custom_labels" {
  for_each = local.custom_labels_names

  name   = "least-privilege"
  role   = aws_iam_role.custom_labels[each.key].id
  policy = data.aws_iam_policy_document.custom_labels[each.key].json
}

# --- API Gateway service integrations --------------------------------------------------------

# API Gateway sends no aws:SourceAccount/aws:SourceArn when it assumes an integration credentials
# role or the account's CloudWatch role: a condition on them would make every call answer 500.
data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api" {
  name               = "${var.name_prefix}-api-integrations"
  description        = "Role API Gateway assumes for the StartExecution and GetItem integrations"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "StartAnalysis"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.image_analysis.arn]
  }

  statement {
    sid       = "ReadResult"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.results.arn]
  }

  statement {
    sid       = "ResultsTableKey"
    actions   = local.table_key_actions
    resources = [aws_kms_key.this.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.dynamodb_endpoint]
    }
  }
}

resource "aws_iam_role_policy" "api" {
  name   = "least-privilege"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.api.json
}

# The per-region API Gateway account role that lets API Gateway write access and execution logs.
resource "aws_iam_role" "apigateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  name               = "${var.name_prefix}-apigateway-cloudwatch"
  description        = "API Gateway account role: pushes API access and execution logs to CloudWatch Logs"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

# The permissions of the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, scoped to log
# groups instead of "*" where the action allows it (DescribeLogGroups has no resource-level
# permissions: scoped, it would never match).
data "aws_iam_policy_document" "apigateway_cloudwatch" {
  statement {
    sid       = "ListLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }

  statement {
    sid = "PushApiLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
    ]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*:log-stream:*",
    ]
  }
}

resource "aws_iam_role_policy" "apigateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  name   = "push-api-logs"
  role   = aws_iam_role.apigateway_cloudwatch[0].id
  policy = data.aws_iam_policy_document.apigateway_cloudwatch.json
}

# --- EventBridge Scheduler -------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-batch-scheduler"
  description        = "Role EventBridge Scheduler assumes to start the batch state machine"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartBatch"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.batch_analysis.arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.scheduler_dlq.arn]
  }

  # The schedule is encrypted with the stack's key: Scheduler decrypts the target input with this role.
  statement {
    sid       = "ScheduleKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "least-privilege"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# The Custom Labels sweep's schedule: it starts the idle-stop machine in sweep mode (scheduler.tf).
resource "aws_iam_role" "custom_labels_sweep" {
  name               = "${var.name_prefix}-custom-labels-sweep"
  description        = "Role EventBridge Scheduler assumes to start the Custom Labels sweep (idle-stop machine)"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "custom_labels_sweep" {
  statement {
    sid       = "StartSweep"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.custom_labels["custom_labels_idle_stop"].arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.custom_labels_sweep_dlq.arn]
  }

  statement {
    sid       = "ScheduleKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "custom_labels_sweep" {
  name   = "least-privilege"
  role   = aws_iam_role.custom_labels_sweep.id
  policy = data.aws_iam_policy_document.custom_labels_sweep.json
}
