"""Active-learning scores per frame, from a task's predictions (pure numpy, no I/O).

Score names are LightlyOne's, so a LightlyOne ``SCORES`` input (``task`` + ``score``) works
unchanged: ``uncertainty_least_confidence``, ``uncertainty_margin``, ``uncertainty_entropy``
(classification, and detection boxes that carry probabilities), ``objectness_least_confidence``
and ``object_frequency`` (detection). framesift adds ``box_uncertainty_mean``,
``box_uncertainty_max`` and ``low_confidence_count`` for detection tasks.
"""

from framesift.scores.classification import (
    CLASSIFICATION_SCORES,
    classification_scores,
    entropy,
    least_confidence,
    margin,
)
from framesift.scores.detection import (
    DETECTION_SCORES,
    box_uncertainty,
    detection_scores,
    object_frequency,
    objectness_least_confidence,
)
from framesift.scores.task import TaskPredictions, task_scores

__all__ = [
    "CLASSIFICATION_SCORES",
    "DETECTION_SCORES",
    "TaskPredictions",
    "box_uncertainty",
    "classification_scores",
    "detection_scores",
    "entropy",
    "least_confidence",
    "margin",
    "object_frequency",
    "objectness_least_confidence",
    "task_scores",
]
