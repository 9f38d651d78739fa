"""Classroom-video analytics: faces per frame, small classifiers, timelines, highlights, alignment.

Pure modules (``alignment``, ``augment``, ``highlights``, ``classifier``) work on arrays; the
others read the workspace catalog and decode frames on demand. Scores go to the catalog
``scores`` table as task ``analytics`` so selection configs and the report can use them.
"""
