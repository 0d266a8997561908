variable "name_prefix" {
  description = "Prefix of every resource name (functions, state machines, buckets, table). Lower case letters, digits and hyphens."
  type        = string
  default     = "rekoflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-20 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'."
  }
}

variable "region" {
  description = "AWS region to deploy to (must offer Amazon Rekognition)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like an AWS region name, e.g. us-east-1."
  }
}

variable "tags" {
  description = "Tags added to every resource (merged with Project/ManagedBy) through the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "build_dir" {
  description = "Folder holding functions/<name>.zip and layer.zip from `make build`; null means ../build next to this module."
  type        = string
  default     = null
}

variable "lambda_runtime" {
  description = "Python runtime of the functions and the layer. It must be the runtime `make build` built the layer for (build/layer.json; python -m rekoflow.build --python-version 3.12 for python3.12). python3.11 runs on Amazon Linux 2: see docs/deploy.md for the move."
  type        = string
  default     = "python3.11"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "lambda_memory_mb" {
  description = "Memory per function in MB, overriding functions/manifest.json; null keeps the manifest's memory_mb."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_memory_mb == null ? true : (var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240)
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_s" {
  description = "Timeout per function in seconds, overriding functions/manifest.json; null keeps the manifest's timeout_s."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_timeout_s == null ? true : (var.lambda_timeout_s >= 1 && var.lambda_timeout_s <= 900)
    error_message = "lambda_timeout_s must be between 1 and 900."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group this stack creates (Lambda, Step Functions, API Gateway)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' allowed values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "rekognition_reserved_concurrency" {
  description = "Reserved concurrency of each Rekognition-calling function not named in reserved_concurrency, which caps its concurrent Rekognition calls. -1 reserves nothing (needed on new accounts whose concurrency limit is 10). All reservations together must leave Lambda's 100 unreserved executions (lambda_account_concurrency)."
  type        = number
  default     = -1

  validation {
    condition     = var.rekognition_reserved_concurrency == -1 || (floor(var.rekognition_reserved_concurrency) == var.rekognition_reserved_concurrency && var.rekognition_reserved_concurrency >= 1 && var.rekognition_reserved_concurrency <= 900)
    error_message = "rekognition_reserved_concurrency must be -1 (unreserved) or a whole number between 1 and 900 (Lambda keeps 100 of an account's default 1000 unreserved)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency per function, by manifest key (e.g. { detect_labels = 50, detect_faces = 10 }); -1 = unreserved. Overrides rekognition_reserved_concurrency for the functions it names."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v == -1 || (floor(v) == v && v >= 1)])
    error_message = "reserved_concurrency values must be -1 (unreserved) or whole numbers of at least 1."
  }
}

variable "lambda_account_concurrency" {
  description = "This account's Lambda concurrent-executions quota in the region (Service Quotas L-B99A9384; 1000 by default, 10 on some new accounts). The plan fails when the reservations would leave less than the 100 unreserved executions Lambda requires."
  type        = number
  default     = 1000

  validation {
    condition     = floor(var.lambda_account_concurrency) == var.lambda_account_concurrency && var.lambda_account_concurrency >= 10
    error_message = "lambda_account_concurrency must be a whole number of at least 10."
  }
}

variable "rekognition_max_concurrency" {
  description = "Child executions a batch run keeps in flight (the scheduler's maxConcurrency for the Distributed Map): at most the Rekognition TPS quota of the busiest operation, e.g. 50 for DetectLabels in us-east-1/us-west-2/eu-west-1, 5 in most other regions."
  type        = number
  default     = 5

  validation {
    condition     = floor(var.rekognition_max_concurrency) == var.rekognition_max_concurrency && var.rekognition_max_concurrency >= 1 && var.rekognition_max_concurrency <= 1000
    error_message = "rekognition_max_concurrency must be a whole number between 1 and 1000 (the batch machine's maxConcurrency). For the Lambda reserved concurrency (-1 = unreserved) use rekognition_reserved_concurrency."
  }
}

variable "log_level" {
  description = "Powertools log level of the functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch metrics namespace of the functions' Powertools metrics."
  type        = string
  default     = "Rekoflow"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace))
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . _ / # : -."
  }
}

variable "sfn_log_level" {
  description = "Step Functions execution logging level."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.sfn_log_level)
    error_message = "sfn_log_level must be ALL, ERROR or FATAL (OFF is not allowed: failures must be visible)."
  }
}

variable "sfn_include_execution_data" {
  description = "Whether Step Functions logs include execution input/output (image locations and results)."
  type        = bool
  default     = true
}

variable "batch_schedule_enabled" {
  description = "Whether the EventBridge Scheduler schedule that starts the batch state machine is enabled."
  type        = bool
  default     = false
}

variable "batch_schedule_expression" {
  description = "EventBridge Scheduler expression of the batch run: rate(...), cron(...) or at(...)."
  type        = string
  default     = "cron(0 3 * * ? *)"

  validation {
    condition     = can(regex("^(rate|cron|at)\\(.+\\)$", var.batch_schedule_expression))
    error_message = "batch_schedule_expression must be rate(...), cron(...) or at(...)."
  }
}

variable "batch_schedule_timezone" {
  description = "Time zone of batch_schedule_expression (IANA name)."
  type        = string
  default     = "UTC"
}

variable "batch_prefix" {
  description = "Key prefix in the images bucket that the scheduled batch run analyses."
  type        = string
  default     = "batch/"

  validation {
    condition     = !startswith(var.batch_prefix, "/") && length(var.batch_prefix) <= 512
    error_message = "batch_prefix must not start with '/' and must be at most 512 characters."
  }
}

variable "batch_tolerated_failure_percentage" {
  description = "Share of a scheduled batch run's images (percent) that may fail before the batch fails (the scheduler's toleratedFailurePercentage)."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_tolerated_failure_percentage >= 0 && var.batch_tolerated_failure_percentage <= 100
    error_message = "batch_tolerated_failure_percentage must be between 0 and 100."
  }
}

variable "batch_analyses" {
  description = "Analyses the scheduled batch run requests for every image."
  type        = list(string)
  default     = ["labels"]

  validation {
    condition     = length(var.batch_analyses) > 0 && alltrue([for a in var.batch_analyses : contains(["labels", "faces", "text", "moderation"], a)])
    error_message = "batch_analyses must be a non-empty list of labels, faces, text, moderation."
  }
}

variable "api_authorization" {
  description = "Authorisation of the REST API methods: IAM (SigV4-signed requests, the default) or NONE (open; for demos behind another control only)."
  type        = string
  default     = "IAM"

  validation {
    condition     = contains(["IAM", "NONE"], var.api_authorization)
    error_message = "api_authorization must be IAM or NONE."
  }
}

variable "api_stage_name" {
  description = "Name of the API Gateway stage."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.api_stage_name))
    error_message = "api_stage_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second allowed on the API stage."
  type        = number
  default     = 20

  validation {
    condition     = var.api_throttling_rate_limit > 0
    error_message = "api_throttling_rate_limit must be positive."
  }
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests allowed on the API stage."
  type        = number
  default     = 40

  validation {
    condition     = var.api_throttling_burst_limit > 0
    error_message = "api_throttling_burst_limit must be positive."
  }
}

variable "manage_api_gateway_account" {
  description = "Whether to set this region's API Gateway account CloudWatch role (a per-region singleton that API Gateway logging needs). Set false if another stack already manages it."
  type        = bool
  default     = true
}

variable "cors_allowed_origins" {
  description = "Origins allowed to upload (presigned POST) and GET images in the images bucket from a browser."
  type        = list(string)
  default     = ["*"]
}

variable "upload_url_expiry_s" {
  description = "Lifetime of the presigned upload URLs returned by POST /uploads, in seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.upload_url_expiry_s >= 60 && var.upload_url_expiry_s <= 3600
    error_message = "upload_url_expiry_s must be between 60 and 3600."
  }
}

variable "results_noncurrent_days" {
  description = "Days after which noncurrent versions of objects in the buckets expire."
  type        = number
  default     = 30

  validation {
    condition     = var.results_noncurrent_days >= 1
    error_message = "results_noncurrent_days must be at least 1."
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic; null for no subscription."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null ? true : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the stack's KMS key is deleted after destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "force_destroy" {
  description = "Whether destroy empties the buckets (all versions) instead of failing on non-empty buckets."
  type        = bool
  default     = false
}

variable "endpoint_overrides" {
  description = "Service endpoint overrides for the local stack (service => URL). Read only by terraform/local/provider_override.tf, which `make tf-local` copies in; production leaves it empty."
  type        = map(string)
  default     = {}
}

variable "table_deletion_protection" {
  description = "Whether the results table has DynamoDB deletion protection (turn off before destroying the stack)."
  type        = bool
  default     = true
}

variable "cache_ttl_days" {
  description = "How long a cached analysis result is reused, in days (CACHE_TTL_DAYS of the functions)."
  type        = number
  default     = 30

  validation {
    condition     = var.cache_ttl_days >= 1
    error_message = "cache_ttl_days must be at least 1."
  }
}

variable "record_ttl_days" {
  description = "TTL of successful analysis records in days (RECORD_TTL_DAYS); 0 keeps them. Failure records never expire."
  type        = number
  default     = 0

  validation {
    condition     = var.record_ttl_days >= 0
    error_message = "record_ttl_days must be 0 or more."
  }
}

variable "upload_trigger_enabled" {
  description = "Start an analysis for every image created under upload_trigger_prefix in the images bucket (S3 -> EventBridge -> the start_upload_analysis Lambda)."
  type        = bool
  default     = false
}

variable "upload_trigger_prefix" {
  description = "Key prefix in the images bucket whose new objects are analysed when upload_trigger_enabled is true (ends with /)."
  type        = string
  default     = "incoming/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]{0,199}/$", var.upload_trigger_prefix))
    error_message = "upload_trigger_prefix must be 1-200 characters of S3-safe key characters ending with /."
  }
}

variable "upload_trigger_analyses" {
  description = "The analyses the upload trigger asks for (any of labels, faces, text, moderation: those that need only the image)."
  type        = list(string)
  default     = ["labels", "faces", "text"]

  validation {
    condition     = length(var.upload_trigger_analyses) > 0 && alltrue([for a in var.upload_trigger_analyses : contains(["labels", "faces", "text", "moderation"], a)])
    error_message = "upload_trigger_analyses must be a non-empty list of labels, faces, text, moderation."
  }
}

variable "custom_labels_sweep_enabled" {
  description = "Run the Custom Labels sweep on custom_labels_sweep_schedule: it restarts the idle watcher of any model in use whose watcher is gone, so a running model is always stopped once idle (docs/custom-labels.md)."
  type        = bool
  default     = true
}

variable "custom_labels_sweep_schedule" {
  description = "EventBridge Scheduler expression of the Custom Labels sweep. A model whose watcher died runs at most this long past its idle time (about $4 per inference-unit hour)."
  type        = string
  default     = "rate(1 hour)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.custom_labels_sweep_schedule))
    error_message = "custom_labels_sweep_schedule must be a rate(...) or cron(...) expression."
  }
}
