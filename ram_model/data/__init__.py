"""Training data: RAM training JSON and webdataset shards, transforms, sampler (imports torch lazily)."""
