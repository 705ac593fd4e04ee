"""Training and evaluation of the RAM tagger from the platform.

- ``models``: TrainingRun (state = its job's state), Checkpoint (the registry), EvalResult.
- ``services``: launch runs / evaluations / head extensions (as jobs), register checkpoints, record results.
- ``job_kinds``: ``train``, ``evaluate``, ``extend_checkpoint`` (gpu queue); bodies in ``workers/training.py``.
- ``exporting``: a dataset version → the RAM training JSON + tag list + evaluation annotations of a run.
- ``configs``: defaults from the official RAM YAML configs, per-size platform defaults.
- ``metrics_file`` / ``charts``: the run page reads the trainer's metrics.jsonl incrementally and draws SVG.
- ``demo``: the synthetic demo data of ``manage.py load_demo_data``.

The web side never imports torch: everything that touches the model runs in the workers.
"""
