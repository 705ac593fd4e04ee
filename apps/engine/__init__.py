"""The data engine on the platform: generation and cleaning runs over dataset versions, and their flags.

- ``models``: EngineRun (generation | cleaning, its input version, checkpoint, output version, report) and
  Flag (one suspect tag assignment of a cleaning run, with its evidence: box, cluster, distance, scores).
- ``services`` / ``selectors``: launch runs (as jobs), record flags and reports, read them.
- ``job_kinds``: ``engine_generate`` and ``engine_features`` (gpu), ``engine_cluster`` (cpu); bodies in
  ``workers/engine.py``, which calls the algorithms of ``ram_model.engine``.
"""
