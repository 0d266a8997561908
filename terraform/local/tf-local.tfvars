# Variables for `make tf-local` (with provider_override.tf); endpoint_overrides is added at run time.
name_prefix                = "rekoflow-tflocal"
region                     = "us-east-1"
force_destroy              = true
table_deletion_protection  = false
kms_deletion_window_days   = 7
log_retention_days         = 7
sfn_log_level              = "ALL"
sfn_include_execution_data = true
upload_trigger_enabled     = true
tags = {
  Environment = "tf-local"
}
