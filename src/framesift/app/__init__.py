"""The framesift web app: explorer, search, Video-Annotator loop and bulk labeler (FastAPI)."""
