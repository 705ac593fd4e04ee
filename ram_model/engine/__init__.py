"""The data engine's algorithms (generation and cleaning), free of Django.

Modules, one job each; importing this package imports none of them (torch and scikit-learn load only where
they are used):

- ``regions``: where in an image a tag is (detections files, Grounding DINO when installed, whole image).
- ``features``: crops of those regions through an image encoder → L2-normalised features, in chunks.
- ``store``: feature chunks on disk between the GPU job and the CPU clustering job, read per category.
- ``clustering``: per-category K-Means++ and the most distant fraction of regions flagged.
- ``rejection``: tags the baseline model does not predict on their own region.
- ``confident``: confident learning (cleanlab) on the baseline's probabilities, per (image, tag).
- ``generation``: tags above threshold that are missing, and the before/after report.
- ``quality``: a synthetic set with known wrong tags, and precision/recall of each method's flags.
- ``cleaning``: the above end to end for a batch of assignments → flags with their evidence.

A cleaning job calls, per shard::

    from ram_model.engine.cleaning import clean_assignments
    from ram_model.engine.features import pooled_image_encoder, tag_probabilities
    result = clean_assignments([(assignment_id, image_key, tag), ...], sources=[DetectionsFileSource(path),
                               GroundingDinoSource(dir)], open_image=load, encoder=pooled_image_encoder(model),
                               image_size=model.image_size, probabilities=tag_probabilities(model),
                               class_index={tag: column}, thresholds={tag: threshold}, device="cuda")
"""
