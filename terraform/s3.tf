# Two buckets: images (the inputs, uploaded by clients through presigned URLs) and results (the
# full Rekognition responses written by the analysis functions, docs/architecture.md).
#
# Encryption: SSE-KMS with the AWS-managed key aws/s3 and S3 Bucket Keys. KMS (rather than AES256)
# puts every object decryption in CloudTrail under kms:Decrypt; the AWS-managed key (rather than
# the stack's customer-managed key) needs no key-policy grants for Rekognition, which reads the
# images with the caller's credentials, nor for browser uploads through presigned URLs; the bucket
# key keeps the KMS request cost negligible.
#
# No bucket grants the Rekognition service principal anything: Rekognition reads images, Custom
# Labels manifests and training images, and writes the training output, with the *caller's*
# credentials (the functions' roles, iam.tf), so the bucket policies only deny insecure transport.
resource "aws_s3_bucket" "images" {
  # checkov:skip=CKV_AWS_18:Server access logging would need a third bucket; use CloudTrail S3 data events (account-wide) for object-level audit.
  # checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; images are client inputs and results can be recomputed.
  # checkov:skip=CKV2_AWS_62:The workflow is started by the API and the scheduler, not by S3 event notifications.
  # checkov:skip=CKV_AWS_145:SSE-KMS with the AWS-managed aws/s3 key is used on purpose (see the comment at the top of s3.tf).

  bucket        = local.images_bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket" "results" {
  # checkov:skip=CKV_AWS_18:Server access logging would need a third bucket; use CloudTrail S3 data events (account-wide) for object-level audit.
  # checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; images are client inputs and results can be recomputed.
  # checkov:skip=CKV2_AWS_62:The workflow is started by the API and the scheduler, not by S3 event notifications.
  # checkov:skip=CKV_AWS_145:SSE-KMS with the AWS-managed aws/s3 key is used on purpose (see the comment at the top of s3.tf).

  bucket        = local.results_bucket_name
  force_destroy = var.force_destroy
}

locals {
  # The settings below apply to both buckets alike.
  bucket_resources = {
    images  = aws_s3_bucket.images
    results = aws_s3_bucket.results
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.bucket_resources

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.bucket_resources

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.bucket_resources

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.bucket_resources

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.bucket_resources

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.bucket_resources

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_cors_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  cors_rule {
    allowed_methods = local.images_bucket_cors.allowed_methods
    allowed_origins = var.cors_allowed_origins
    allowed_headers = local.images_bucket_cors.allowed_headers
    expose_headers  = local.images_bucket_cors.expose_headers
    max_age_seconds = local.images_bucket_cors.max_age_seconds
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.bucket_resources

  bucket = each.value.id

  rule {
    id     = "expire-noncurrent-and-abort-multipart"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.results_noncurrent_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
