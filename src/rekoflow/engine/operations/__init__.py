"""One module per Rekognition operation family; each function maps (params, context) to a response."""
