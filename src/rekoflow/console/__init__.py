"""The local console: a static page served by the local stack (``/_rekoflow/console/``); see rekoflow.local.console."""
