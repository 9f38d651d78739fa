"""Hand-off to labeling tools and labels back.

Writers turn a run's selected frames (+ optional predictions as pre-annotations) into COCO,
YOLO, CVAT, Label Studio and Encord hand-offs; readers turn those tools' exports back into
``labels`` rows, matched to catalog frames by identity (video, frame_index, pts). Server
uploads live in thin ``upload_*`` adapters whose SDK client can be substituted in tests.
"""

FORMATS = ("coco", "yolo", "cvat", "labelstudio", "encord")
IMPORT_FORMATS = ("coco", "yolo", "cvat", "labelstudio")
