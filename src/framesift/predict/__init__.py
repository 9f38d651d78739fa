"""Model predictions on video frames and their import/export in LightlyOne's layout.

Predictors (``Predictor`` protocol in ``base``) run on frames decoded straight from the videos;
``yolo`` wraps any ultralytics model, ``mtcnn`` the offline face detector of facenet-pytorch.
Readers/writers for ``.lightly/predictions``, ``.lightly/metadata``, COCO results and YOLO txt
live in ``lightly_format``, ``coco`` and ``yolo_txt``; ``store`` writes the catalog tables and
``scoring`` turns stored predictions into the ``scores`` table.
"""

from framesift.predict.base import Category, FramePrediction, Predictor, get_predictor

__all__ = ["Category", "FramePrediction", "Predictor", "get_predictor"]
