"""POST /uploads: a presigned S3 PUT URL for uploading an image into the images bucket."""
