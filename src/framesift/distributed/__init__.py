"""Ray Data execution of ingest, embed and predict over video shards.

Workers decode, embed and predict (one task per video, results streamed back in batches);
the driver is the only catalog writer and writes in video-id order with the same writers as
the local engine, so both engines produce the same catalog. Ray is imported only when used.
"""
