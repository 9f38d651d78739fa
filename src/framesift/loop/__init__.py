"""Video-Annotator loop: concept classifiers on frame embeddings, feeds, review, AP estimate.

``annotator`` and ``feeds`` are pure (arrays in, arrays out); ``concepts`` reads and writes the
catalog; ``export`` writes the classifier and its scores to files.
"""
