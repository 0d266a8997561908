output "api_url" {
  description = "Base URL of the REST API stage (POST /analyses, GET /analyses/{requestId}, POST /uploads)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "image_analysis_state_machine_arn" {
  description = "ARN of the image-analysis state machine."
  value       = aws_sfn_state_machine.image_analysis.arn
}

output "batch_analysis_state_machine_arn" {
  description = "ARN of the batch-analysis state machine."
  value       = aws_sfn_state_machine.batch_analysis.arn
}

output "custom_labels_state_machine_arns" {
  description = "ARNs of the Custom Labels state machines: custom_labels_training (rekoflow train, StartExecution), custom_labels_lease, custom_labels_idle_stop."
  value       = { for t, machine in aws_sfn_state_machine.custom_labels : t => machine.arn }
}

output "images_bucket" {
  description = "Name of the images bucket (inputs; uploads go under uploads/)."
  value       = aws_s3_bucket.images.id
}

output "results_bucket" {
  description = "Name of the results bucket (full Rekognition responses under results/)."
  value       = aws_s3_bucket.results.id
}

output "results_table" {
  description = "Name of the DynamoDB results table."
  value       = aws_dynamodb_table.results.name
}

output "function_names" {
  description = "Lambda function names by manifest key."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "alarm_topic_arn" {
  description = "SNS topic that receives the alarms."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "The stack's customer-managed KMS key (logs, table, Lambda environment, alarm topic, scheduler)."
  value       = aws_kms_key.this.arn
}

output "upload_trigger_prefix" {
  description = "Images created under this prefix of the images bucket start an analysis (null when upload_trigger_enabled is false)."
  value       = var.upload_trigger_enabled ? var.upload_trigger_prefix : null
}

output "upload_trigger_dlq_url" {
  description = "Upload events that could not start an analysis after EventBridge's retries (null when the trigger is off)."
  value       = var.upload_trigger_enabled ? aws_sqs_queue.uploads_dlq[0].id : null
}
