"""Self-supervised fine-tuning of the embedding model on a workspace's own frames.

``settings`` turns LightlyOne's ``lightly_config`` into training settings (no I/O), ``frames``
samples and decodes the training frames straight from the videos, ``ssl`` runs SimCLR (the
``lightly`` library's loss, projection head and augmentations) in a plain PyTorch loop with a
checkpoint per epoch, and hands back an embedder of the fine-tuned model.
"""
