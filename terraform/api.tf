# REST API:
#   POST /analyses            -> Step Functions StartExecution (direct service integration)
#   GET  /analyses/{requestId} -> DynamoDB GetItem on pk (direct service integration)
#   POST /uploads             -> create_upload_url Lambda (presigned S3 PUT URL)
locals {
  api_authorization = var.api_authorization == "IAM" ? "AWS_IAM" : "NONE"

  # The execution name is the request's requestId (idempotency key) or, when absent, API Gateway's
  # request id, which is then also added to the input so the record's pk equals the execution name.
  start_execution_template = <<-VTL
    #set($body = $util.parseJson($input.body))
    #set($raw = $input.json('$'))
    #if($body.requestId && "$body.requestId" != "")
    #set($name = $body.requestId)
    #set($execInput = $raw)
    #else
    #set($name = $context.requestId)
    #set($q = '"')
    #set($execInput = "{$!{q}requestId$!{q}:$!{q}$name$!{q},$raw.trim().substring(1)")
    #end
    {
      "stateMachineArn": "${aws_sfn_state_machine.image_analysis.arn}",
      "name": "$name",
      "input": "$util.escapeJavaScript($execInput).replaceAll("\\'", "'")"
    }
  VTL

  # Strings from the service's answer are emitted with $input.json(path), which writes a JSON string
  # literal; $util.escapeJavaScript alone would write \' for a quote, which is not valid JSON.
  start_execution_response = <<-VTL
    #set($arn = $input.path('$.executionArn'))
    #set($start = $arn.lastIndexOf(":") + 1)
    #set($requestId = $arn.substring($start))
    {
      "requestId": "$requestId",
      "executionArn": $input.json('$.executionArn'),
      "statusUrl": "https://$context.domainName/$context.stage/analyses/$requestId"
    }
  VTL

  start_execution_error = <<-VTL
    #set($type = $input.path('$.__type'))
    #if($type.contains("ExecutionAlreadyExists"))
    #set($context.responseOverride.status = 409)
    #end
    {
      "error": $input.json('$.__type'),
      "message": $input.json('$.message')
    }
  VTL

  get_item_template = <<-VTL
    {
      "TableName": "${aws_dynamodb_table.results.name}",
      "Key": {"pk": {"S": "$util.escapeJavaScript($input.params('requestId')).replaceAll("\\'", "'")"}},
      "ConsistentRead": true
    }
  VTL

  # A clean JSON record from DynamoDB's typed attributes; 404 when there is no ANALYSIS record.
  # image, request, results and resultKeys are stored as JSON strings by the workflow: embedded as is.
  get_item_response = <<-VTL
    #set($item = $input.path('$.Item'))
    #if("$!item" == "" || !$item.pk || $item.recordType.S != "ANALYSIS")
    #set($context.responseOverride.status = 404)
    {
      "error": "NotFound",
      "message": "no analysis with requestId $util.escapeJavaScript($input.params('requestId')).replaceAll("\\'", "'")"
    }
    #else
    {
      "requestId": $input.json('$.Item.pk.S'),
      "status": $input.json('$.Item.status.S'),
      #if($item.batchId)"batchId": $input.json('$.Item.batchId.S'),
      #end
      #if($item.executionArn)"executionArn": $input.json('$.Item.executionArn.S'),
      #end
      #if($item.error)"error": $input.json('$.Item.error.S'),
      #end
      #if($item.cause)"cause": $input.json('$.Item.cause.S'),
      #end
      #if($item.analyses && $item.analyses.L)"analyses": [#foreach($a in $item.analyses.L)"$a.S"#if($foreach.hasNext),#end#end],
      #end
      #if($item.image && $item.image.S)"image": $item.image.S,
      #end
      #if($item.request && $item.request.S)"request": $item.request.S,
      #end
      #if($item.results && $item.results.S)"results": $item.results.S,
      #end
      #if($item.resultKeys && $item.resultKeys.S)"resultKeys": $item.resultKeys.S,
      #end
      #if($item.resultsTruncated)"resultsTruncated": $input.json('$.Item.resultsTruncated.BOOL'),
      #end
      #if($item.cacheHits)"cacheHits": $item.cacheHits.N,
      #end
      "createdAt": $input.json('$.Item.createdAt.S'),
      "updatedAt": $input.json('$.Item.updatedAt.S')
    }
    #end
  VTL

  error_response = <<-VTL
    {
      "error": $input.json('$.__type'),
      "message": $input.json('$.message')
    }
  VTL
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

resource "aws_api_gateway_model" "analysis_request" {
  rest_api_id  = aws_api_gateway_rest_api.this.id
  name         = "AnalysisRequest"
  description  = "functions/rekoflow_common/schemas/analysis_request.schema.json"
  content_type = "application/json"
  schema       = jsonencode(local.request_schema)
}

resource "aws_api_gateway_request_validator" "body" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "body-and-parameters"
  validate_request_body       = true
  validate_request_parameters = true
}

resource "aws_api_gateway_request_validator" "parameters" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "parameters"
  validate_request_body       = false
  validate_request_parameters = true
}

# --- POST /analyses --------------------------------------------------------------------------

resource "aws_api_gateway_resource" "analyses" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "analyses"
}

resource "aws_api_gateway_method" "start_analysis" {
  # checkov:skip=CKV_AWS_59:Authorisation is IAM unless api_authorization = "NONE" is chosen explicitly.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.analyses.id
  http_method          = "POST"
  authorization        = local.api_authorization
  request_validator_id = aws_api_gateway_request_validator.body.id
  request_models       = { "application/json" = aws_api_gateway_model.analysis_request.name }
}

resource "aws_api_gateway_integration" "start_analysis" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.analyses.id
  http_method             = aws_api_gateway_method.start_analysis.http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:states:action/StartExecution"
  credentials             = aws_iam_role.api.arn
  passthrough_behavior    = "NEVER"
  request_templates       = { "application/json" = local.start_execution_template }
}

resource "aws_api_gateway_method_response" "start_analysis" {
  for_each = toset(["202", "400", "409", "500"])

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = aws_api_gateway_resource.analyses.id
  http_method = aws_api_gateway_method.start_analysis.http_method
  status_code = each.value
}

resource "aws_api_gateway_integration_response" "start_analysis" {
  for_each = {
    "202" = { pattern = null, template = local.start_execution_response }
    "400" = { pattern = "4\\d{2}", template = local.start_execution_error }
    "500" = { pattern = "5\\d{2}", template = local.error_response }
  }

  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = aws_api_gateway_resource.analyses.id
  http_method        = aws_api_gateway_method.start_analysis.http_method
  status_code        = aws_api_gateway_method_response.start_analysis[each.key].status_code
  selection_pattern  = each.value.pattern
  response_templates = { "application/json" = each.value.template }

  depends_on = [aws_api_gateway_integration.start_analysis]
}

# --- GET /analyses/{requestId} ---------------------------------------------------------------

resource "aws_api_gateway_resource" "analysis" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.analyses.id
  path_part   = "{requestId}"
}

resource "aws_api_gateway_method" "get_analysis" {
  # checkov:skip=CKV_AWS_59:Authorisation is IAM unless api_authorization = "NONE" is chosen explicitly.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.analysis.id
  http_method          = "GET"
  authorization        = local.api_authorization
  request_validator_id = aws_api_gateway_request_validator.parameters.id
  request_parameters   = { "method.request.path.requestId" = true }
}

resource "aws_api_gateway_integration" "get_analysis" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.analysis.id
  http_method             = aws_api_gateway_method.get_analysis.http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:dynamodb:action/GetItem"
  credentials             = aws_iam_role.api.arn
  passthrough_behavior    = "NEVER"
  request_templates       = { "application/json" = local.get_item_template }
}

resource "aws_api_gateway_method_response" "get_analysis" {
  for_each = toset(["200", "400", "404", "500"])

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = aws_api_gateway_resource.analysis.id
  http_method = aws_api_gateway_method.get_analysis.http_method
  status_code = each.value
}

resource "aws_api_gateway_integration_response" "get_analysis" {
  for_each = {
    "200" = { pattern = null, template = local.get_item_response }
    "400" = { pattern = "4\\d{2}", template = local.error_response }
    "500" = { pattern = "5\\d{2}", template = local.error_response }
  }

  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = aws_api_gateway_resource.analysis.id
  http_method        = aws_api_gateway_method.get_analysis.http_method
  status_code        = aws_api_gateway_method_response.get_analysis[each.key].status_code
  selection_pattern  = each.value.pattern
  response_templates = { "application/json" = each.value.template }

  depends_on = [aws_api_gateway_integration.get_analysis]
}

# --- POST /uploads ---------------------------------------------------------------------------

resource "aws_api_gateway_resource" "uploads" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "uploads"
}

resource "aws_api_gateway_method" "create_upload" {
  # checkov:skip=CKV_AWS_59:Authorisation is IAM unless api_authorization = "NONE" is chosen explicitly.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.uploads.id
  http_method          = "POST"
  authorization        = local.api_authorization
  request_validator_id = aws_api_gateway_request_validator.parameters.id
}

resource "aws_api_gateway_integration" "create_upload" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.uploads.id
  http_method             = aws_api_gateway_method.create_upload.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["create_upload_url"].invoke_arn
}

resource "aws_lambda_permission" "create_upload" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["create_upload_url"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/POST/uploads"
}

# --- Deployment and stage --------------------------------------------------------------------

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_model.analysis_request.schema,
      aws_api_gateway_method.start_analysis,
      aws_api_gateway_integration.start_analysis,
      aws_api_gateway_integration_response.start_analysis,
      aws_api_gateway_method.get_analysis,
      aws_api_gateway_integration.get_analysis,
      aws_api_gateway_integration_response.get_analysis,
      aws_api_gateway_method.create_upload,
      aws_api_gateway_integration.create_upload,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration_response.start_analysis,
    aws_api_gateway_integration_response.get_analysis,
    aws_api_gateway_integration.create_upload,
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
