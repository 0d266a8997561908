# The REST API is declared once, in terraform/api/api.json with its mapping templates beside it
# (docs/architecture.md, ADR-15); the local stack creates and executes the same declaration.
#   POST /analyses             -> Step Functions StartExecution (direct service integration)
#   GET  /analyses/{requestId} -> DynamoDB GetItem on pk (direct service integration)
#   POST /uploads              -> create_upload_url Lambda (presigned S3 POST)
locals {
  api_authorization = var.api_authorization == "IAM" ? "AWS_IAM" : "NONE"
  api_dir           = "${path.module}/api"
  api               = jsondecode(file("${local.api_dir}/api.json"))

  # What the templates may name; the local stack renders them with its own values.
  api_template_variables = {
    state_machine_arn = aws_sfn_state_machine.image_analysis.arn
    table_name        = aws_dynamodb_table.results.name
  }
  api_schemas = { analysis_request = local.request_schema }

  # Resources under the root, and under those (the API is two levels deep).
  api_top_resources    = { for k, r in local.api.resources : k => r if r.parent == "" }
  api_nested_resources = { for k, r in local.api.resources : k => r if r.parent != "" }
  api_resource_paths = merge(
    { for k, r in local.api_top_resources : k => r.path_part },
    { for k, r in local.api_nested_resources : k => "${local.api.resources[r.parent].path_part}/${r.path_part}" },
  )
  api_resource_ids = merge(
    { for k, r in aws_api_gateway_resource.top : k => r.id },
    { for k, r in aws_api_gateway_resource.nested : k => r.id },
  )

  api_method_responses = merge([
    for m, method in local.api.methods : { for status in method.method_responses : "${m} ${status}" => { method = m, status = status } }
  ]...)
  api_integration_responses = merge([
    for m, method in local.api.methods : { for status, response in method.integration_responses : "${m} ${status}" => merge(response, { method = m, status = status }) }
  ]...)
}

resource "aws_api_gateway_rest_api" "this" {
  name        = "${var.name_prefix}-api"
  description = "rekoflow: start image analyses, read their results, get upload URLs"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_model" "this" {
  for_each = local.api.models

  rest_api_id  = aws_api_gateway_rest_api.this.id
  name         = each.key
  description  = each.value.description
  content_type = "application/json"
  schema       = jsonencode(local.api_schemas[each.value.schema])
}

resource "aws_api_gateway_request_validator" "this" {
  for_each = local.api.validators

  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = each.key
  validate_request_body       = each.value.body
  validate_request_parameters = each.value.parameters
}

resource "aws_api_gateway_resource" "top" {
  for_each = local.api_top_resources

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "nested" {
  for_each = local.api_nested_resources

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.top[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_method" "this" {
  for_each = local.api.methods
  # checkov:skip=CKV_AWS_59:Authorisation is IAM unless api_authorization = "NONE" is chosen explicitly.

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = local.api_resource_ids[each.value.resource]
  http_method          = each.value.http_method
  authorization        = local.api_authorization
  request_validator_id = aws_api_gateway_request_validator.this[each.value.validator].id
  request_models       = { for type, model in each.value.request_models : type => aws_api_gateway_model.this[model].name }
  request_parameters   = each.value.request_parameters
}

resource "aws_api_gateway_integration" "this" {
  for_each = local.api.methods

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = local.api_resource_ids[each.value.resource]
  http_method             = aws_api_gateway_method.this[each.key].http_method
  type                    = each.value.integration.type
  integration_http_method = "POST"
  uri = (each.value.integration.type == "AWS_PROXY"
    ? aws_lambda_function.this[each.value.integration.function].invoke_arn
  : "arn:${local.partition}:apigateway:${local.region}:${each.value.integration.action}")
  # Service integrations call the service with the API's own role; a Lambda proxy is invoked under its permission.
  credentials          = each.value.integration.type == "AWS" ? aws_iam_role.api.arn : null
  passthrough_behavior = lookup(each.value.integration, "passthrough_behavior", null)
  request_templates = {
    for type, file in lookup(each.value.integration, "request_templates", {}) : type => templatefile("${local.api_dir}/${file}", local.api_template_variables)
  }
}

resource "aws_api_gateway_method_response" "this" {
  for_each = local.api_method_responses

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = local.api_resource_ids[local.api.methods[each.value.method].resource]
  http_method = aws_api_gateway_method.this[each.value.method].http_method
  status_code = each.value.status
}

resource "aws_api_gateway_integration_response" "this" {
  for_each = local.api_integration_responses

  rest_api_id       = aws_api_gateway_rest_api.this.id
  resource_id       = local.api_resource_ids[local.api.methods[each.value.method].resource]
  http_method       = aws_api_gateway_method.this[each.value.method].http_method
  status_code       = aws_api_gateway_method_response.this[each.key].status_code
  selection_pattern = each.value.selection_pattern == "" ? null : each.value.selection_pattern
  response_templates = {
    for type, file in each.value.templates : type => templatefile("${local.api_dir}/${file}", local.api_template_variables)
  }

  depends_on = [aws_api_gateway_integration.this]
}

resource "aws_api_gateway_gateway_response" "this" {
  for_each = local.api.gateway_responses

  rest_api_id        = aws_api_gateway_rest_api.this.id
  response_type      = each.key
  status_code        = each.value.status_code
  response_templates = each.value.templates
}

resource "aws_lambda_permission" "api" {
  for_each = { for m, method in local.api.methods : m => method if method.integration.type == "AWS_PROXY" }

  statement_id  = "AllowApiGatewayInvoke-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.integration.function].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/${each.value.http_method}/${local.api_resource_paths[each.value.resource]}"
}

# --- Deployment and stage --------------------------------------------------------------------

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      local.api,
      aws_api_gateway_model.this,
      aws_api_gateway_method.this,
      aws_api_gateway_integration.this,
      aws_api_gateway_integration_response.this,
      aws_api_gateway_gateway_response.this,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration.this,
    aws_api_gateway_integration_response.this,
    aws_api_gateway_gateway_response.this,
  ]
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy.apigateway_cloudwatch]
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name_prefix}-api/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

# API Gateway creates the execution log group on first use, without retention: create it first.
resource "aws_cloudwatch_log_group" "api_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.api_stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_api_gateway_stage" "this" {
  # checkov:skip=CKV_AWS_120:Responses are per request (new executions, changing statuses); a cache would serve stale statuses and costs per hour.
  # checkov:skip=CKV2_AWS_51:Clients authenticate with SigV4 (IAM); mutual TLS client certificates are for backends that cannot verify IAM.
  # checkov:skip=CKV2_AWS_29:WAF is optional hardening with a monthly cost; the API is IAM-authorised and throttled per stage.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.api_stage_name
  xray_tracing_enabled = true
  # The templates build URLs from it (statusUrl); the local stack sets its own.
  variables = {
    baseUrl = "https://${aws_api_gateway_rest_api.this.id}.execute-api.${local.region}.${data.aws_partition.current.dns_suffix}/${var.api_stage_name}"
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      ip                 = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      userArn            = "$context.identity.userArn"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integration.status"
      integrationLatency = "$context.integration.latency"
      errorMessage       = "$context.error.message"
      validationError    = "$context.error.validationErrorString"
    })
  }

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.api_execution]
}

resource "aws_api_gateway_method_settings" "all" {
  # checkov:skip=CKV_AWS_225:Caching is off on purpose: responses are per request (new executions, changing statuses), see the stage.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}
