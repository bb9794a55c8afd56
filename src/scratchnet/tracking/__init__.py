"""The only package that talks to MLflow: store, recorder, provenance, reader, sweeps."""
