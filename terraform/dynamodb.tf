# The results table (docs/architecture.md, "Results table"): ANALYSIS and CACHE records under pk.
resource "aws_dynamodb_table" "results" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = local.results_table.hash_key
  deletion_protection_enabled = var.table_deletion_protection

  dynamic "attribute" {
    for_each = local.results_table.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = { for index in local.results_table.global_secondary_indexes : index.name => index }
    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = global_secondary_index.value.projection_type
    }
  }

  ttl {
    attribute_name = local.results_table.ttl_attribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }
}
